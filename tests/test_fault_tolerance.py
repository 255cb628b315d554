"""Fault tolerance of sharded runs: kill -9 mid-shard, corrupt/truncated files, changed config, concurrent workers,
out of GPU memory / disk, and failed runs that must not touch a complete result.

Corpus: ``mini_scifact``, a 64-document subsample of the real SciFact written by the fixture from
../shared/data/beir/scifact: every relevant document of the first 16 test queries plus random others (seed 0), with
those 20 queries and their qrels. all-MiniLM-L6-v2 (``model=minilm``, offline from its pip package) encodes it in
seconds, so the kill and corruption cases stay cheap; tests/cluster/test_sharded_eval.py does the launcher
equivalence. Every subprocess has a timeout and runs in its own process group, killed on expiry.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from evaluation.compose import compose_run_config
from evaluation.errors import DataFileError, Me5EvalError
from evaluation.runner import run_from_overrides

N_DOCS = 64  # mini_scifact (tests/conftest.py)
RUN_TIMEOUT_S = 300
MINILM_DIR = "sentence-transformers__all-MiniLM-L6-v2/8b3219a92973c328a8e22fadcfa821b5dc75636a"


# ------------------------------------------------------------------------------------------------ helpers


def overrides(corpus: Path, base: Path, *extra: str) -> list[str]:
    return ["model=minilm", "suite=mteb-en", "tasks=[SciFact]", "data.root=null", f"data.paths.SciFact={corpus}",
            f"output.dir={base / 'out'}", f"cache.dir={base / 'cache'}", "block_rows=16", *extra]


def outputs(base: Path) -> tuple[float, bytes]:
    """(nDCG@10, run file bytes) of a finished run."""
    rev = base / "out" / MINILM_DIR
    obj = json.loads((rev / "SciFact.json").read_text())
    run = (rev / "details" / "SciFact" / "test" / "default.run.trec").read_bytes()
    return obj["scores"]["test"][0]["ndcg_at_10"], run


def shard_files(base: Path, n_shards: int) -> dict[int, Path]:
    found = sorted((base / "cache" / "shards").glob(f"*/SciFact/default/test/{n_shards}/shard-*.npy"))
    return {int(p.stem.split("-")[1]): p for p in found}


def fingerprint(p: Path) -> tuple[int, int, str]:
    """(inode, mtime_ns, sha256): changes if the file was rewritten, even with the same content."""
    st = p.stat()
    return st.st_ino, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest()


def cli(args: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    """``python -m evaluation.cli ARGS`` in its own process group, output to ``log``."""
    return subprocess.Popen([sys.executable, "-m", "evaluation.cli", *args], stdout=open(log, "w"),
                            stderr=subprocess.STDOUT, start_new_session=True, env=env,
                            cwd=str(Path(__file__).resolve().parents[1]))


def wait(proc: subprocess.Popen, log: Path, timeout: float = RUN_TIMEOUT_S) -> tuple[int, str]:
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"{proc.args} did not finish in {timeout}s (killed):\n{log.read_text()[-4000:]}", pytrace=False)
    return rc, log.read_text(errors="replace")


def poll(condition, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"process ended (rc={proc.returncode}) before {what}:\n{log.read_text()[-4000:]}")
        time.sleep(0.02)
    if proc is not None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    pytest.fail(f"timed out after {timeout}s waiting for {what}" + (f":\n{log.read_text()[-4000:]}" if log else ""))


def sweep_receipts(base: Path) -> dict[int, dict]:
    """Receipts of the newest sweep under the cache."""
    sweeps = sorted((base / "cache" / "sweeps").iterdir())
    return {int(p.stem.split("-")[1]): json.loads(p.read_text()) for p in (sweeps[-1] / "receipts").glob("*.json")}


def encoded(receipts: dict[int, dict]) -> list[int]:
    return sorted(s for s, r in receipts.items() if any(it["encoded"] for it in r["items"]))


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def reference(mini_scifact, tmp_path_factory) -> tuple[float, bytes]:
    """An uninterrupted in-process run, one shard."""
    base = tmp_path_factory.mktemp("reference")
    run_from_overrides(overrides(mini_scifact, base, "shards=1"))
    return outputs(base)


@pytest.fixture(scope="module")
def killed_then_resumed(mini_scifact, tmp_path_factory):
    """`me5-eval run ... shards=4 launcher=gpus` (one worker process); kill -9 the worker while it encodes shard 2/4;
    then the same run again (in-process), which must succeed."""
    base = tmp_path_factory.mktemp("kill")
    args = ["run", *overrides(mini_scifact, base, "shards=4", "launcher=gpus", "launcher.params.workers=1")]
    log1 = base / "first.log"
    proc = cli(args, log1)

    def worker_encodes_shard_2():
        logs = list((base / "cache" / "sweeps").glob("*/sweep.log"))
        return logs and "encoding corpus shard 2/4" in logs[0].read_text(errors="replace")

    poll(worker_encodes_shard_2, RUN_TIMEOUT_S, "the worker to start encoding shard 2/4", proc, log1)
    [pid_file] = (base / "cache" / "sweeps").glob("*/.gpus/worker-0.pid")
    worker_pid = int(pid_file.read_text())
    os.kill(worker_pid, signal.SIGKILL)
    rc1, out1 = wait(proc, log1)
    after_kill = shard_files(base, 4)
    manifests_after_kill = sorted(p.name for p in after_kill[0].parent.glob("shard-*.json"))
    before = {i: fingerprint(p) for i, p in after_kill.items()}
    run_from_overrides(args[1:])  # the same command again (in-process: saves a process start-up)
    second_sweep = sorted((base / "cache" / "sweeps").iterdir())[-1]
    out2 = (second_sweep / "sweep.log").read_text(errors="replace")
    return dict(base=base, rc1=rc1, out1=out1, out2=out2, before=before,
                manifests_after_kill=manifests_after_kill, receipts=sweep_receipts(base))


# ------------------------------------------------------------------------------------------------ kill -9


@pytest.mark.slow
def test_killed_worker_fails_the_run_naming_the_unfinished_shards(killed_then_resumed):
    r = killed_then_resumed
    assert r["rc1"] == 2, r["out1"][-3000:]
    assert "unfinished shards: 1, 2, 3 of 4" in r["out1"], r["out1"][-3000:]
    assert "rerun the same command" in r["out1"]
    assert r["manifests_after_kill"] == ["shard-00000.json"]  # shard 2/4 was killed mid-encoding: not stored
    assert not list((r["base"] / "cache" / "shards").rglob(".*.tmp"))  # no half-written file left behind


@pytest.mark.slow
def test_rerun_recomputes_only_the_unfinished_shards(killed_then_resumed):
    r = killed_then_resumed
    assert sorted(r["receipts"]) == [1, 2, 3]  # only the unfinished shards were even submitted
    assert encoded(r["receipts"]) == [1, 2, 3]
    assert fingerprint(shard_files(r["base"], 4)[0]) == r["before"][0]  # shard 0 untouched
    assert "encoding corpus shard 1/4" not in r["out2"]


@pytest.mark.slow
def test_resumed_run_equals_an_uninterrupted_one(killed_then_resumed, reference):
    ndcg, run = outputs(killed_then_resumed["base"])
    assert ndcg == pytest.approx(reference[0], abs=1e-6)
    assert run == reference[1]  # the same TREC run file, byte for byte (4 shards vs 1)


@pytest.mark.slow
def test_nothing_is_swept_when_every_shard_is_stored(killed_then_resumed, mini_scifact, reference, tmp_path):
    base = copy_run(killed_then_resumed["base"], tmp_path)
    run_from_overrides(overrides(mini_scifact, base, "shards=4", "launcher=gpus", "output.overwrite=true"))
    assert not (base / "cache" / "sweeps").exists()  # no sweep, no worker: the merge step ran in-process
    assert outputs(base) == outputs(killed_then_resumed["base"])


# ------------------------------------------------------------------------------------------------ corruption


def copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src / "cache", dst / "cache", ignore=shutil.ignore_patterns("sweeps"))
    shutil.copytree(src / "out", dst / "out")
    return dst


@pytest.mark.slow
def test_corrupt_and_truncated_shards_and_result_are_recomputed_with_a_warning(
    killed_then_resumed, mini_scifact, reference, tmp_path, caplog
):
    base = copy_run(killed_then_resumed["base"], tmp_path)
    shards = shard_files(base, 4)
    data = bytearray(shards[1].read_bytes())
    data[-200:-100] = bytes(b ^ 0xFF for b in data[-200:-100])  # same size, flipped bits
    shards[1].write_bytes(bytes(data))
    with open(shards[2], "r+b") as f:
        f.truncate(shards[2].stat().st_size - 64)
    result = base / "out" / MINILM_DIR / "SciFact.json"
    result.write_bytes(result.read_bytes()[:500])  # a truncated result file
    keep = {i: fingerprint(shards[i]) for i in (0, 3)}

    with caplog.at_level("WARNING"):
        run_from_overrides(overrides(mini_scifact, base, "shards=4"))
    warnings = "\n".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "shard-00001.npy is unusable (checksum mismatch" in warnings
    assert "shard-00002.npy is unusable (truncated" in warnings
    assert "SciFact.json is unreadable" in warnings
    assert {i: fingerprint(shards[i]) for i in (0, 3)} == keep  # intact shards are reused as they are
    assert outputs(base)[0] == pytest.approx(reference[0], abs=1e-6) and outputs(base)[1] == reference[1]


# ------------------------------------------------------------------------------------------------ changed config


@pytest.mark.slow
def test_changed_config_does_not_reuse_old_shards(killed_then_resumed, mini_scifact, tmp_path):
    from evaluation.sweep.shard_job import encode_worker_shard

    base = copy_run(killed_then_resumed["base"], tmp_path)
    old = {p: fingerprint(p) for p in shard_files(base, 4).values()}  # by path: new keys reuse the indices

    def shard0(*extra):
        cfg = compose_run_config(overrides(mini_scifact, base, "shards=4", "shard_index=0", *extra))
        [item] = encode_worker_shard(cfg)["items"]
        return item

    same = shard0()
    assert not same["encoded"]  # the same config reuses the stored shard
    keys = {same["key"]}
    for change in ("model.max_length=128", "protocol=mteb"):
        item = shard0(change)
        assert item["encoded"] and item["key"] not in keys, change
        keys.add(item["key"])
    assert {p: fingerprint(p) for p in old} == old  # old ones untouched


# ------------------------------------------------------------------------------------------------ failed runs


@pytest.mark.slow
def test_a_failed_run_never_overwrites_a_complete_result(killed_then_resumed, mini_scifact, tmp_path):
    base = copy_run(killed_then_resumed["base"], tmp_path)
    bad = tmp_path / "bad-scifact"
    shutil.copytree(mini_scifact, bad)
    with open(bad / "corpus.jsonl", "a", encoding="utf-8") as f:
        f.write('{"_id": "x", "title": "broken\n')
    rev = base / "out" / MINILM_DIR
    files = [rev / "SciFact.json", rev / "details" / "SciFact" / "test" / "default.run.trec"]
    before = [fingerprint(p) for p in files]
    with pytest.raises(DataFileError, match=f"corpus.jsonl:{N_DOCS + 1}"):
        run_from_overrides(overrides(bad, base, "shards=4", "output.overwrite=true"))
    assert [fingerprint(p) for p in files] == before


def test_out_of_gpu_memory_names_batch_size(mini_scifact, tmp_path, monkeypatch):
    import torch

    from evaluation.models.encoder import E5Encoder

    def oom(self, texts, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 3.00 GiB")

    monkeypatch.setattr(E5Encoder, "encode_formatted", oom)
    with pytest.raises(Me5EvalError, match=r"out of GPU memory while encoding SciFact/default shard 1/2 with "
                                           r"batch_size=16.*batch_size=8"):
        run_from_overrides(overrides(mini_scifact, tmp_path, "shards=2", "batch_size=16"))
    assert not (tmp_path / "out" / MINILM_DIR / "SciFact.json").exists()


class _StubEncoder:
    """Random unit vectors instead of a model (the out-of-disk case needs no real encoding)."""

    def __init__(self, cfg):
        from evaluation.models.loading import predicted_fingerprint

        self.fp, self.dim, self.device, self.dtype = predicted_fingerprint(cfg, "cpu"), cfg.dim, "cpu", "float32"

    def model_fingerprint(self):
        return self.fp

    def encode_formatted(self, texts, **kwargs):
        import numpy as np

        texts = list(texts)  # a model reads its texts (a shard's are read from the file as they are asked for)
        v = np.random.default_rng(0).standard_normal((len(texts), self.dim)).astype("float32")
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_out_of_disk_names_cache_dir_and_leaves_no_partial_shard(mini_scifact, tmp_path, monkeypatch):
    import evaluation.models.loading as loading
    import evaluation.shards as shards_mod
    from evaluation.sweep.shard_job import encode_worker_shard

    monkeypatch.setattr(loading, "_LOADED", {})
    monkeypatch.setattr(loading, "load_encoder", lambda cfg, **kw: _StubEncoder(cfg))

    real = shards_mod.atomic_writer

    @contextmanager
    def full_disk(path, *a, **kw):
        with real(path, *a, **kw) as f:
            f.write(b"\x93NUMPY partial")
            raise OSError(errno.ENOSPC, "No space left on device")
            yield f  # pragma: no cover

    monkeypatch.setattr(shards_mod, "atomic_writer", full_disk)
    cfg = compose_run_config(overrides(mini_scifact, tmp_path, "shards=4", "shard_index=3"))
    with pytest.raises(Me5EvalError, match=rf"no space left on device while encoding SciFact/default shard 4/4.*"
                                           rf"cache.dir={tmp_path / 'cache'}"):
        encode_worker_shard(cfg)
    leftovers = [p.name for p in (tmp_path / "cache" / "shards").rglob("shard-*") if not p.name.endswith(".lock")]
    assert leftovers == [] and not list((tmp_path / "cache").rglob(".*.tmp"))


# ------------------------------------------------------------------------------------------------ concurrency


@pytest.mark.slow
def test_two_workers_never_encode_the_same_shard(mini_scifact, tmp_path):
    """Two `me5-eval worker` processes on the same shard: one encodes, the other waits on the shard's lock and then
    reads the stored shard. The test holds the lock until both are waiting, so they really collide."""
    from evaluation.atomic import locked
    from evaluation.encode import shard_embedder
    from evaluation.retrieval import shard_key
    from evaluation.shards import shard_paths
    from evaluation.suites import resolve_suite
    from evaluation.task_data import load_subset

    ov = overrides(mini_scifact, tmp_path, "shards=4")
    cfg = compose_run_config(ov)
    [spec] = resolve_suite(cfg.suite, cfg.tasks, cfg.langs)
    n_docs = len(load_subset(cfg, spec, "default").corpus)
    key = shard_key(shard_embedder(cfg), spec, "default", n_docs, 4)
    npy = shard_paths(tmp_path / "cache", key, 1).npy
    lock = locked(npy.with_suffix(".encode"))
    lock.acquire()
    procs, logs = [], []
    try:
        for i in range(2):
            logs.append(tmp_path / f"w{i}.log")
            procs.append(cli(["worker", *ov, "shard_index=1", f"hydra.run.dir={tmp_path / f'w{i}'}"], logs[-1]))
        for proc, log in zip(procs, logs, strict=True):
            poll(lambda log=log: "is being encoded by another worker" in log.read_text(errors="replace"),
                 RUN_TIMEOUT_S, "both workers to wait for the shard lock", proc, log)
    finally:
        lock.release()
    results = [wait(p, log) for p, log in zip(procs, logs, strict=True)]
    assert [rc for rc, _ in results] == [0, 0], "\n".join(out[-2000:] for _, out in results)
    receipts = [json.loads((tmp_path / f"w{i}" / "receipts" / "shard-00001.json").read_text()) for i in range(2)]
    assert sorted(r["items"][0]["encoded"] for r in receipts) == [False, True]
    assert sum("encoding corpus shard 2/4" in out for _, out in results) == 1
    assert sorted(p.name for p in npy.parent.iterdir() if not p.name.endswith(".lock")) == [
        "shard-00001.json", "shard-00001.npy"]
