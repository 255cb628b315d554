"""evaluation/sweep/receipts.py: the file a sweep job leaves for the driver, and how the driver reads a sweep's."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

from evaluation.sweep.receipts import (
    encoded_items,
    item_receipt,
    read_receipts,
    receipt_path,
    shard_receipt,
    write_receipt,
)


def test_a_receipt_is_named_after_its_shard_index(tmp_path):
    assert receipt_path(tmp_path, 3) == tmp_path / "shard-00003.json"


def test_a_written_receipt_is_read_back_by_shard_index(tmp_path, monkeypatch):
    monkeypatch.setenv("ME5_EVAL_WORKER", "1")
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    item = item_receipt("SciFact", "default", "test", "0123abcd", 16, 32, encoded=True, seconds=1.23456,
                        npy=Path("/c/shard-00001.npy"))
    encoder = SimpleNamespace(device="cpu", dtype="torch.float32")
    receipt = shard_receipt(1, 4, [item], encoder, "sha256:ab|pool=mean", started=100.0)
    write_receipt(tmp_path / "receipts", receipt)
    back = read_receipts(tmp_path)
    assert list(back) == [1]
    r = back[1]
    assert (r["status"], r["shard"], r["shards"], r["fingerprint"]) == ("ok", 1, 4, "sha256:ab|pool=mean")
    assert (r["device"], r["dtype"], r["pid"], r["worker"], r["slurm_job_id"]) == ("cpu", "float32", os.getpid(),
                                                                                   "1", "4242")
    assert r["items"] == [{"task": "SciFact", "subset": "default", "split": "test", "key": "0123abcd", "start": 16,
                           "end": 32, "encoded": True, "seconds": 1.235, "npy": "/c/shard-00001.npy"}]
    assert r["finished"] >= r["started"] == 100.0


def test_receipts_that_are_unreadable_count_as_unfinished(tmp_path, caplog):
    d = tmp_path / "receipts"
    d.mkdir()
    (d / "shard-00000.json").write_text(json.dumps({"status": "ok", "shard": 0, "items": []}))
    (d / "shard-00001.json").write_text('{"status": "ok", "sha')  # truncated
    with caplog.at_level("WARNING"):
        assert sorted(read_receipts(tmp_path)) == [0]
    assert "shard-00001.json is unreadable" in caplog.text


def test_encoded_items_are_the_ones_a_worker_ran_the_model_for():
    receipts = {
        2: {"items": [{"task": "NQ", "subset": "default", "encoded": True}]},
        0: {"items": [{"task": "SciFact", "subset": "default", "encoded": False},
                      {"task": "ArguAna", "subset": "default", "encoded": True}]},
    }
    assert encoded_items(receipts) == [(0, "ArguAna", "default"), (2, "NQ", "default")]
