"""evaluation/sweep/worker.py: `me5-eval worker` (and ``python -m evaluation.sweep.worker``) as a user runs one job.

Corpus: ``mini_scifact`` (tests/conftest.py), 64 real SciFact documents; with shards=4, shard 3 is documents 48-64.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from evaluation.cli import main
from evaluation.sweep.worker import _cli_args


def test_the_worker_app_loads_without_torch():
    """The gpus launcher's spawned processes import this module before they set CUDA_VISIBLE_DEVICES: torch must
    not be loaded by then (the job's code imports it)."""
    probe = "import sys, evaluation.sweep.worker; print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_data_paths_overrides_need_no_plus_plus_on_the_command_line():
    assert _cli_args(["--multirun", "data.paths.SciFact=/d", "shards=2", "++x.y=1"]) == [
        "--multirun", "++data.paths.SciFact=/d", "shards=2", "++x.y=1"]


@pytest.mark.slow
def test_one_worker_job_writes_its_shard_and_its_receipt(mini_scifact, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", list(sys.argv))  # the worker app sets sys.argv for Hydra
    rc = main(["worker", "model=minilm", "suite=mteb-en", "tasks=[SciFact]", "data.root=null",
               f"data.paths.SciFact={mini_scifact}", f"cache.dir={tmp_path / 'cache'}", "shards=4", "shard_index=3",
               "block_rows=16",
               f"hydra.run.dir={tmp_path / 'job'}"])
    assert rc == 0
    receipt = json.loads((tmp_path / "job" / "receipts" / "shard-00003.json").read_text())
    [item] = receipt["items"]
    assert (receipt["shard"], item["start"], item["end"], item["encoded"]) == (3, 48, 64, True)
    assert [p.name for p in (tmp_path / "cache" / "shards").rglob("shard-*.npy")] == ["shard-00003.npy"]
