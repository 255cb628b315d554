"""SciFact nDCG@10 with the corpus vectors stored float32 (``shard_dtype=auto`` for mteb tasks) vs float16 (the
default for MIRACL / Mr.TyDi), all-MiniLM-L6-v2 on CPU; the numbers in docs/scale.md come from this script.

    python -m benchmarks.shard_dtype --data ../shared/data [--work DIR]

The corpus is encoded once (float32 run); the float16 shard is that shard's float16 copy, written under the
float16 key, which is exactly what a float16 run stores (the encoder's output is the same; only the stored copy
differs). Both runs then go through the whole pipeline: search, scoring, result file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from evaluation.compose import compose_run_config
from evaluation.encode import lazy_embedder
from evaluation.retrieval import shard_key
from evaluation.runner import run
from evaluation.shards import load_shard, write_shard
from evaluation.suites import resolve_suite
from evaluation.task_data import retrieval_subset


def _ndcg(cfg) -> float:
    [result] = run(cfg)
    [entry] = result.scores["test"]
    return float(entry["ndcg_at_10"])


def measure(data: Path, work: Path) -> dict:
    base = ["model=minilm", "suite=mteb-en", "tasks=[SciFact]", f"data.root={data}", f"cache.dir={work / 'cache'}",
            "output.overwrite=true"]
    cfg32 = compose_run_config([*base, f"output.dir={work / 'fp32'}", "shard_dtype=float32"])
    cfg16 = compose_run_config([*base, f"output.dir={work / 'fp16'}", "shard_dtype=float16"])
    fp32 = _ndcg(cfg32)
    [spec] = resolve_suite(cfg32.suite, cfg32.tasks, cfg32.langs)
    corpus = retrieval_subset(cfg32, spec, "default", {}).corpus
    key32 = shard_key(lazy_embedder(cfg32), spec, "default", len(corpus), 1)
    key16 = shard_key(lazy_embedder(cfg16), spec, "default", len(corpus), 1)
    vectors = np.asarray(load_shard(cfg32.cache.dir, key32, 0, corpus.ids), dtype=np.float32)
    write_shard(cfg16.cache.dir, key16, 0, corpus.ids, vectors)  # the float16 copy a float16 run stores
    fp16 = _ndcg(cfg16)
    rounding = np.abs(vectors - vectors.astype(np.float16).astype(np.float32))
    return {"task": "SciFact", "model": "sentence-transformers/all-MiniLM-L6-v2", "documents": len(corpus),
            "ndcg_at_10_float32": fp32, "ndcg_at_10_float16": fp16, "delta_points": 100 * (fp16 - fp32),
            "max_abs_rounding": float(rounding.max()), "disk_bytes_float32": vectors.nbytes,
            "disk_bytes_float16": vectors.nbytes // 2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path(".cache/me5-eval-bench/shard-dtype"))
    args = parser.parse_args()
    print(json.dumps(measure(args.data.resolve(), args.work.resolve()), indent=2))


if __name__ == "__main__":
    main()
