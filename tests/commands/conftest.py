"""Fixtures for the command tests: small results folders copied from the published (real) result files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

MINILM = "sentence-transformers__all-MiniLM-L6-v2"
DEMO_TASKS = ("STSBenchmark", "SciFact", "Banking77Classification")  # what `make demo` runs


@pytest.fixture()
def published_minilm(data_root) -> Path:
    """The published all-MiniLM-L6-v2 folder (read only)."""
    return data_root / "reference" / "mteb-results" / MINILM


def copy_run(published: Path, results: Path, tasks=DEMO_TASKS, shift: dict[str, float] | None = None) -> Path:
    """results/<MINILM>/<revision>/ with the published files of `tasks`; `shift` adds to a task's main score."""
    (rev,) = [d for d in published.iterdir() if d.is_dir()]
    out = results / MINILM / rev.name
    out.mkdir(parents=True)
    shutil.copy(rev / "model_meta.json", out)
    for task in tasks:
        obj = json.loads((rev / f"{task}.json").read_text())
        for entries in obj["scores"].values():
            for e in entries:
                e["main_score"] += (shift or {}).get(task, 0.0)
        (out / f"{task}.json").write_text(json.dumps(obj))
    return out
