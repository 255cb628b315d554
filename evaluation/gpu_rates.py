"""GPU encoding rates for `me5-eval plan`, read from a measurement file (never constants in code).

Where from, first found wins:
1. ``ME5_EVAL_GPU_RATES=<file>``: either format below.
2. ``reports/bench/gpu-latest.json`` of this checkout, written by ``make bench-gpu`` (benchmarks/run_gpu.py): the
   real worker path's passages/s (JSONL -> shard on disk, tokenisation included) per mE5 size. A ``--smoke`` file
   (CPU, tiny) is never used.
3. ``<data.root>/reference/gpu/h100-bare-loop.json``: the measured H100 anchor (bare fp16 forward loop on
   pre-tokenised, length-sorted MIRACL-like passages; the best batch size per model): a ceiling, not the pipeline.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

# mE5 sizes by embedding dim (the files name the architecture; the plan knows the model's dim)
SIZE_DIMS = {"small": 384, "base": 768, "large": 1024}
PROJECT_FILE = Path(__file__).resolve().parents[1] / "reports" / "bench" / "gpu-latest.json"
ANCHOR_FILE = Path("reference", "gpu", "h100-bare-loop.json")  # under data.root


@dataclass(frozen=True)
class GpuRates:
    source: str  # the file the rates come from
    gpu: str  # the GPU they were measured on
    what: str  # which path was timed
    passages_per_s: dict[int, float]  # embedding dim -> passages/s

    def rate(self, dim: int) -> float:
        """The rate of the model of this dim; another dim gets the slowest measured rate (a safe estimate)."""
        return self.passages_per_s.get(dim, min(self.passages_per_s.values()))


def load_gpu_rates(data_root: str | None) -> GpuRates | None:
    """The first usable measurement (module doc), or None when there is none."""
    override = os.environ.get("ME5_EVAL_GPU_RATES")
    candidates = [Path(override)] if override else [PROJECT_FILE]
    if data_root and not override:
        candidates.append(Path(data_root) / ANCHOR_FILE)
    for path in candidates:
        if path.is_file():
            rates = parse_rates(path)
            if rates is not None:
                return rates
    return None


def parse_rates(path: Path) -> GpuRates | None:
    """Rates from a ``make bench-gpu`` report or the bare-loop anchor; None for a smoke run or another file."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(doc.get("plan_rates"), dict):  # benchmarks/run_gpu.py
        if doc.get("smoke"):
            return None
        rates = {SIZE_DIMS[size]: float(r) for size, r in doc["plan_rates"].items() if size in SIZE_DIMS and r}
        what = "real worker path (JSONL -> shard), fp16"
        return GpuRates(str(path), str(doc.get("gpu", "GPU")), what, rates) if rates else None
    best: dict[int, float] = {}
    for row in doc.get("encode", []):
        if row.get("work") == "wiki_passages" and row.get("sorted") and row.get("model") in SIZE_DIMS:
            dim = SIZE_DIMS[row["model"]]
            best[dim] = max(best.get(dim, 0.0), float(row["texts_per_s"]))
    what = "bare fp16 forward loop, pre-tokenised (a ceiling)"
    return GpuRates(str(path), str(doc.get("gpu", "GPU")), what, best) if best else None
