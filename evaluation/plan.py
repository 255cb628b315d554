"""What `me5-eval plan` shows: every task x subset x split with counts, texts left to encode, GPU time and disk.

Pure bookkeeping: no model is loaded. Counts come from local files when data.root covers the task, else from
mteb's descriptive statistics (the hub datasets' sizes, shipped inside mteb).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tabulate import tabulate

from evaluation.config import ModelConfig, RunConfig
from evaluation.data.registry import count_local
from evaluation.gpu_rates import GpuRates, load_gpu_rates
from evaluation.shards import shard_dtype, shard_plan
from evaluation.suites import TaskSpec, mteb_task, resolve_suite
from evaluation.task_data import local_root

# CPU: all-MiniLM-L6-v2 (6 layers, width 384) encodes CPU_TEXTS_PER_S of plan's texts per second per core, fp32,
# on `make demo`'s tasks (measured: reports/bench/README.md); other models scale by layers x width^2.
CPU_TEXTS_PER_S, CPU_REFERENCE_SHAPE = 25.0, (6, 384)
MODEL_SHAPES = {384: (12, 384), 768: (12, 768), 1024: (24, 1024)}  # mE5 small / base / large: layers, width


@dataclass
class PlanRow:
    task: str
    subset: str
    split: str
    queries: int | None
    documents: int | None
    texts: int | None  # texts to encode in total (queries + documents, or pair/classification texts)
    shards: int
    source: str


def _hub_counts(spec: TaskSpec, subset: str) -> dict:
    stats = (mteb_task(spec.name).metadata.descriptive_stats or {}).get(spec.split) or {}
    sub = (stats.get("hf_subset_descriptive_stats") or {}).get(subset, stats)
    if spec.is_retrieval:
        q, d = sub.get("num_queries"), sub.get("num_documents")
        return dict(queries=q, documents=d, texts=(q or 0) + (d or 0) if q is not None else None)
    n = sub.get("num_samples")
    pairs = "text1_statistics" in sub or "sentence1_statistics" in sub
    return dict(queries=None, documents=None, texts=(2 * n if pairs and n else n))


def plan_rows(cfg: RunConfig) -> list[PlanRow]:
    rows = []
    for spec in resolve_suite(cfg.suite, cfg.tasks, cfg.langs):
        root, override = local_root(cfg, spec.name)
        for subset in spec.subsets:
            if root is not None:
                counts, source = count_local(spec.name, subset, spec.split, root, override), "local"
                if spec.is_retrieval and counts.get("documents") is None:  # topics+qrels local, corpus not
                    docs = _hub_counts(spec, subset)["documents"]
                    texts = (counts.get("queries") or 0) + docs if docs is not None else None
                    counts = dict(counts, documents=docs, texts=texts)
                    source = "local (corpus size: mteb stats)"
            else:
                counts, source = _hub_counts(spec, subset), "hub"
            shards = cfg.shards if spec.is_retrieval else 1
            rows.append(PlanRow(spec.name, subset, spec.split, counts.get("queries"), counts.get("documents"),
                                counts.get("texts"), shards, source))
    return rows


def estimate(rows: list[PlanRow], dim: int, rates: GpuRates | None, dtype_setting: str = "auto") -> dict:
    """Totals, the disk of the corpus shards (stored as ``shard_dtype(dtype_setting, task)``), and GPU-hours at the
    measured rate (None without a measurement)."""
    docs = sum(r.documents or 0 for r in rows)
    texts = sum(r.texts or 0 for r in rows)
    disk_gb = sum((r.documents or 0) * dim * np.dtype(shard_dtype(dtype_setting, r.task)).itemsize for r in rows) / 1e9
    gpu_hours = texts / rates.rate(dim) / 3600 if rates else None
    return dict(documents=docs, texts=texts, gpu_hours=gpu_hours, shard_disk_gb=disk_gb)


def cpu_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def model_shape(model: ModelConfig) -> tuple[int, int]:
    """(layers, width) from the local checkpoint's config.json, else the mE5 model of the same dim."""
    config = Path(model.path) / "config.json" if model.path else None
    if config is not None and config.is_file():
        raw = json.loads(config.read_text(encoding="utf-8"))
        if "num_hidden_layers" in raw and "hidden_size" in raw:
            return int(raw["num_hidden_layers"]), int(raw["hidden_size"])
    return MODEL_SHAPES.get(model.dim or 1024, MODEL_SHAPES[1024])


def cpu_minutes(rows: list[PlanRow], model: ModelConfig, cores: int) -> float:
    """Rough wall time of encoding every text on `cores` otherwise idle CPU cores (cached texts cost nothing)."""
    layers, width = model_shape(model)
    ref_layers, ref_width = CPU_REFERENCE_SHAPE
    rate = CPU_TEXTS_PER_S * cores * (ref_layers * ref_width**2) / (layers * width**2)
    return sum(r.texts or 0 for r in rows) / rate / 60


def gpu_line(est: dict, rates: GpuRates | None) -> str:
    if rates is None:
        return ("GPU-hours unknown (no GPU measurement: run `make bench-gpu` on a GPU machine, or set data.root to "
                "the shared data, which holds the H100 anchor reference/gpu/h100-bare-loop.json)")
    return f"{est['gpu_hours']:.2f} GPU-hours on one {rates.gpu} ({rates.what}; measured: {rates.source})"


def format_plan(cfg: RunConfig, rows: list[PlanRow]) -> str:
    table = [[r.task, r.subset, r.split, r.queries, r.documents, r.texts, r.shards,
              f"{shard_plan(r.documents, r.shards, cfg.block_rows)[0].size:,}" if r.documents else "", r.source]
             for r in rows]
    rates = load_gpu_rates(cfg.data.root)
    est = estimate(rows, cfg.model.dim or 1024, rates, cfg.shard_dtype)
    head = ["task", "subset", "split", "queries", "documents", "texts", "shards", "docs/shard", "source"]
    lines = [tabulate(table, headers=head, tablefmt="github", intfmt=","),
             "",
             f"{len(rows)} work units; {est['texts']:,} texts to encode ({est['documents']:,} documents)",
             f"estimate for {cfg.model.name} (dim {cfg.model.dim}): {gpu_line(est, rates)}, "
             f"{est['shard_disk_gb']:.2f} GB of corpus shards (shard_dtype={cfg.shard_dtype})",
             f"on this machine's {cpu_cores()} CPU cores: about {cpu_minutes(rows, cfg.model, cpu_cores()):,.0f} "
             "minutes (rough; cached embeddings are not encoded again)"]
    missing = [r for r in rows if r.texts is None]
    if missing:
        lines.append(f"{len(missing)} unit(s) with unknown size (corpus not found locally): "
                     + ", ".join(f"{r.task}/{r.subset}" for r in missing[:8]))
    return "\n".join(lines)
