"""`make bench-gpu`'s CPU smoke mode (benchmarks/run_gpu.py --smoke): the whole prepared GPU benchmark runs, tiny, and
writes a report whose rows are honest (no PASS without a bar) and which `me5-eval plan` never reads as GPU rates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.gpu_rates import parse_rates

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_gpu_smoke_runs_the_worker_path_and_search_and_writes_its_report(tmp_path, data_root):
    env = {**os.environ, "ME5_EVAL_DATA": str(data_root), "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "benchmarks.run_gpu", "--smoke", "--models", "small,base",
                           "--work", str(tmp_path / "work"), "--report-dir", str(tmp_path)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    doc = json.loads((tmp_path / "gpu-smoke.json").read_text())
    rows = {b["name"]: b for b in doc["bars"]}
    worker = rows["5a worker path vs bare fp16 loop, JSONL -> vectors on disk [small]"]
    counts = worker["details"]["counts"]
    assert counts["worker"]["batches"] == counts["bare_fp16"]["batches"] == 3  # 24 passages, batch 8
    assert len(worker["details"]["ratios"]) == 3 and "pass" not in worker  # smoke: a report, never a PASS
    assert rows["5d numeric agreement, worker vs bare loop [base]"]["check"] is True
    mteb_row = rows["5c worker path vs mteb.evaluate, same precision [small]"]
    assert len(mteb_row["details"]["ratios"]) == 3 and "pass" not in mteb_row
    workers = rows["5f 1/2/4 workers (launcher=gpus), corpus phase [small]"]["details"]
    assert workers["workers"] == [1, 2] and set(workers["wall_s"]) == {"1", "2"}  # 4 shards per worker, all encoded
    search = rows["5e search: torch on cpu vs faiss-cpu, 20,000 x 384"]
    assert search["check"] is True and search["details"]["same_rankings"] == 1.0
    assert doc["smoke"] is True and set(doc["plan_rates"]) == {"small", "base"}
    assert parse_rates(tmp_path / "gpu-smoke.json") is None  # plan never takes CPU smoke numbers as GPU rates
    assert "PASS" not in (tmp_path / "gpu-smoke.md").read_text()
