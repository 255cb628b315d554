"""Shard plan and shard store: round trip, every kind of corruption -> None + warning, concurrent writers."""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing as mp
import time
from dataclasses import replace

import numpy as np
import pytest

from evaluation import shards
from evaluation.shards import ShardKey, load_shard, shard_paths, shard_plan, write_shard

N_DOCS, N_SHARDS, DIM, BLOCK_ROWS = 10, 3, 8, 1
KEY = ShardKey("fp-abc", "paper", "passage: ", 512, True, "MIRACLRetrieval", "sw", "dev", BLOCK_ROWS, N_DOCS,
               N_SHARDS)
DOCIDS = [f"d{i}" for i in range(N_DOCS)]


def shard_docs(i: int, key: ShardKey = KEY) -> list[str]:
    r = key.range(i)
    return DOCIDS[r.start : r.end]


def emb(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


@pytest.mark.parametrize("n_docs,n_shards,block_rows",
                         [(10, 3, 1), (9, 3, 1), (0, 2, 4), (2, 5, 1), (1, 1, 4), (1000, 7, 1), (1000, 7, 64),
                          (10, 3, 4), (4096 * 5 + 17, 4, 4096)])
def test_plan_is_balanced_contiguous_whole_blocks(n_docs, n_shards, block_rows):
    plan = shard_plan(n_docs, n_shards, block_rows)
    assert len(plan) == n_shards and [r.index for r in plan] == list(range(n_shards))
    assert plan[0].start == 0 and plan[-1].end == n_docs
    assert all(a.end == b.start for a, b in zip(plan, plan[1:], strict=False))
    assert all(r.start % block_rows == 0 for r in plan)  # every shard starts on a block boundary
    blocks = [-(-r.size // block_rows) for r in plan]
    assert max(blocks) - min(blocks) <= 1 and blocks == sorted(blocks, reverse=True)


def test_plan_by_hand():
    assert [r[1:] for r in shard_plan(10, 3, 4)] == [(0, 4), (4, 8), (8, 10)]
    assert [r[1:] for r in shard_plan(10, 2, 4)] == [(0, 8), (8, 10)]  # 3 blocks: 2 + 1
    assert [r[1:] for r in shard_plan(5, 3, 4)] == [(0, 4), (4, 5), (5, 5)]  # 2 blocks: the third shard is empty


def test_plan_rejects_bad_input():
    with pytest.raises(ValueError):
        shard_plan(10, 0, 4)
    with pytest.raises(ValueError):
        shard_plan(10, 2, 0)
    with pytest.raises(ValueError):
        KEY.range(N_SHARDS)


def test_round_trip(tmp_path):
    x = emb(4)
    path = write_shard(tmp_path, KEY, 0, shard_docs(0), x)
    assert path == tmp_path / "shards" / KEY.digest() / "MIRACLRetrieval/sw/dev/3/shard-00000.npy"
    got = load_shard(tmp_path, KEY, 0, shard_docs(0))
    assert isinstance(got, np.memmap) and got.dtype == np.float16
    np.testing.assert_array_equal(got, x.astype(np.float16))
    m = json.loads(shard_paths(tmp_path, KEY, 0).manifest.read_text())
    assert (m["start"], m["end"], m["first_docid"], m["last_docid"], m["dim"]) == (0, 4, "d0", "d3", DIM)


def test_empty_shard_round_trip(tmp_path):
    key = replace(KEY, n_docs=2, n_shards=5)
    write_shard(tmp_path, key, 4, [], np.zeros((0, DIM), np.float32))
    assert load_shard(tmp_path, key, 4, []).shape == (0, DIM)


def test_missing_and_other_key_are_misses(tmp_path):
    assert load_shard(tmp_path, KEY, 1, shard_docs(1)) is None
    write_shard(tmp_path, KEY, 1, shard_docs(1), emb(3))
    others = [{"model_fingerprint": "fp-xyz"}, {"protocol": "mteb"}, {"max_length": 256}, {"prompt": ""},
              {"block_rows": 2}]
    for other in (replace(KEY, **change) for change in others):
        assert other.directory(tmp_path) != KEY.directory(tmp_path)  # changed configs never collide
        assert load_shard(tmp_path, other, 1, shard_docs(1)) is None


def _truncate(p):
    p.npy.write_bytes(p.npy.read_bytes()[:-5])


def _flip_middle(p):
    data = bytearray(p.npy.read_bytes())
    data[128 + (len(data) - 128) // 2] ^= 0xFF  # middle of the data, after the 128-byte npy header
    p.npy.write_bytes(bytes(data))


def _edit_key(field, value):
    def edit(p):
        m = json.loads(p.manifest.read_text())
        m["key"][field] = value
        p.manifest.write_text(json.dumps(m))

    return edit


@pytest.mark.parametrize(
    "corrupt,reason",
    [
        (_truncate, "truncated"),
        (_flip_middle, "checksum mismatch"),
        (_edit_key("model_fingerprint", "fp-other"), "different model_fingerprint"),
        (_edit_key("protocol", "mteb"), "different protocol"),
        (_edit_key("max_length", 128), "different max_length"),
        (lambda p: p.manifest.write_text("{not json"), "manifest unreadable"),
        (lambda p: p.manifest.unlink(), "incomplete write"),
        (lambda p: p.npy.unlink(), "npy file missing"),
        (lambda p: p.npy.write_bytes(b"garbage" * 40), "wrong size"),
    ],
)
def test_corruption_gives_none_and_warning(tmp_path, caplog, corrupt, reason):
    write_shard(tmp_path, KEY, 2, shard_docs(2), emb(3))
    corrupt(shard_paths(tmp_path, KEY, 2))
    with caplog.at_level(logging.WARNING, logger="evaluation.shards"):
        assert load_shard(tmp_path, KEY, 2, shard_docs(2)) is None
    assert reason in caplog.text


def test_different_docids(tmp_path, caplog):
    write_shard(tmp_path, KEY, 2, shard_docs(2), emb(3))
    with caplog.at_level(logging.WARNING, logger="evaluation.shards"):
        assert load_shard(tmp_path, KEY, 2, ["x", "y", "z"]) is None
        assert load_shard(tmp_path, KEY, 2, ["x"]) is None
    assert caplog.text.count("different docids") == 2


def test_checksum_stamp_skips_rehash_until_file_changes(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(shards, "RACY_SECONDS", 0.0)
    calls = []
    real = shards.sha256_of
    monkeypatch.setattr(shards, "sha256_of", lambda p: calls.append(p) or real(p))
    write_shard(tmp_path, KEY, 0, shard_docs(0), emb(4))
    time.sleep(0.05)  # older than one tick of the filesystem clock, so the stamp is trustworthy
    assert load_shard(tmp_path, KEY, 0, shard_docs(0)) is not None
    assert load_shard(tmp_path, KEY, 0, shard_docs(0)) is not None
    assert len(calls) == 1  # second load trusted the stamp
    time.sleep(0.05)
    _flip_middle(shard_paths(tmp_path, KEY, 0))  # same size: only the stamp's ctime/mtime reveal the edit
    with caplog.at_level(logging.WARNING, logger="evaluation.shards"):
        assert load_shard(tmp_path, KEY, 0, shard_docs(0)) is None
    assert "checksum mismatch" in caplog.text and len(calls) == 2


def test_young_file_is_not_stamped(tmp_path):
    write_shard(tmp_path, KEY, 0, shard_docs(0), emb(4))
    assert load_shard(tmp_path, KEY, 0, shard_docs(0)) is not None
    assert not shard_paths(tmp_path, KEY, 0).stamp.exists()  # younger than RACY_SECONDS: re-hash next time


def test_rejects_wrong_sizes_and_non_finite(tmp_path):
    with pytest.raises(ValueError, match="covers rows"):
        write_shard(tmp_path, KEY, 0, shard_docs(0), emb(3))
    bad = emb(4)
    bad[1, 2] = 1e6  # overflows float16
    with pytest.raises(ValueError, match="non-finite"):
        write_shard(tmp_path, KEY, 0, shard_docs(0), bad)


def _writer(root: str, value: float, rounds: int) -> None:
    for _ in range(rounds):
        write_shard(root, KEY, 0, shard_docs(0), np.full((4, DIM), value, np.float32))


def test_concurrent_writers_leave_one_valid_shard(tmp_path):
    ctx = mp.get_context("spawn")  # no fork: other tests in this process may have started OpenMP threads
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), v, 15)) for v in (1.0, 2.0)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    got = load_shard(tmp_path, KEY, 0, shard_docs(0))
    assert got is not None and np.unique(np.asarray(got)).size == 1 and got[0, 0] in (1.0, 2.0)
    leftovers = [p.name for p in KEY.directory(tmp_path).iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_the_corpus_digest_is_part_of_the_key_and_older_keys_keep_theirs():
    fields = {"model_fingerprint": "fp-abc", "protocol": "paper", "prompt": "passage: ", "max_length": 512,
              "normalize": True, "task": "MIRACLRetrieval", "subset": "sw", "split": "dev", "block_rows": BLOCK_ROWS,
              "n_docs": N_DOCS, "n_shards": N_SHARDS, "dtype": "float16"}
    before = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]  # keys without a corpus
    assert KEY.digest() == before
    edited = [replace(KEY, corpus=f"sha256:{c * 64}").digest() for c in "ab"]
    assert before not in edited and edited[0] != edited[1]
