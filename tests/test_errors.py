"""evaluation/errors.py: running out of GPU memory, host memory or disk becomes one message naming the setting."""

from __future__ import annotations

import errno

import pytest
import torch

from evaluation.compose import compose_run_config
from evaluation.errors import DataFileError, Me5EvalError, MissingDataError, resource_errors


def _cfg(*overrides):
    return compose_run_config(["model=minilm", *overrides])


def test_cuda_oom_names_batch_size():
    with pytest.raises(Me5EvalError, match=r"out of GPU memory while encoding X.*batch_size=64.*batch_size=32"):
        with resource_errors(_cfg(), "encoding X"):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_out_of_disk_names_cache_dir_and_size():
    with pytest.raises(Me5EvalError, match=r"no space left.*cache.dir=/big/c \(this shard needs 1.50 GB\)"):
        with resource_errors(_cfg("cache.dir=/big/c"), "writing", shard_gb=1.5):
            raise OSError(errno.ENOSPC, "No space left on device")


def test_out_of_host_memory_names_shards():
    with pytest.raises(Me5EvalError, match=r"out of host memory.*raise shards= \(now 4\)"):
        with resource_errors(_cfg("shards=4"), "encoding"):
            raise MemoryError()


def test_other_errors_pass_through_unchanged():
    with pytest.raises(PermissionError):
        with resource_errors(_cfg(), "writing"):
            raise PermissionError(errno.EACCES, "denied")
    with pytest.raises(ValueError):
        with resource_errors(_cfg(), "encoding"):
            raise ValueError("a bug")


def test_data_errors_name_the_file_and_line():
    assert str(DataFileError("/d/corpus.jsonl", 7, "expected a JSON object")) == (
        "/d/corpus.jsonl:7: expected a JSON object")
    msg = str(MissingDataError("SciFact qrels", ["/a/test.tsv", "/b/test.tsv"], "Fix: set data.root"))
    assert msg == "missing data file for SciFact qrels; looked at: /a/test.tsv, /b/test.tsv. Fix: set data.root"
