"""A minimal result file for tests that need a complete result without running a model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_result_json(path: Path, subsets: list[str], split: str = "test", main_score: float = 0.5,
                      identity: dict[str, Any] | None = None) -> Path:
    """A result file mteb's own reader accepts (TaskResult.from_disk), its task named by the file; with
    ``identity``, a ``me5_eval.identity`` block (evaluation/identity.py) as the runner writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = [{"hf_subset": s, "languages": ["eng-Latn"], "main_score": main_score} for s in subsets]
    extra = {"me5_eval": {"identity": identity}} if identity is not None else {}
    path.write_text(json.dumps({"task_name": path.stem, "dataset_revision": "test", "mteb_version": "2.26.24",
                                "evaluation_time": 1.0, "kg_co2_emissions": None, "scores": {split: entries},
                                **extra}))
    return path
