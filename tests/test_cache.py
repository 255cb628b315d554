"""Embedding cache: hits/misses, prompt-type separation, concurrent writers, corrupt chunks -> misses."""

from __future__ import annotations

import errno
import logging
import multiprocessing as mp
from pathlib import Path

import numpy as np
import pytest

from evaluation import cache as cache_mod
from evaluation.atomic import UnwritableError
from evaluation.cache import EmbeddingCache, cache_key, cached_encode
from evaluation.errors import CacheError

DIM = 6


def vec(text: str) -> np.ndarray:
    """A deterministic fake embedding of a text."""
    seed = int.from_bytes(text.encode("utf-8")[:8].ljust(8, b"\0"), "little") + len(text)
    return np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)


def key(text: str, prompt_type: str = "query") -> str:
    return cache_key("fp-1", "paper", prompt_type, text, 512, True)


def test_hit_miss_and_exact_values(tmp_path):
    c = EmbeddingCache(tmp_path, "m")
    texts = ["a", "b", "c"]
    assert c.put_many([key(t) for t in texts], np.stack([vec(t) for t in texts])) == 3
    found, got = c.get_many([key("b"), key("zz"), key("a"), key("b")])
    assert found.tolist() == [True, False, True, True]
    # float32 in, float32 out: bit-exact
    np.testing.assert_array_equal(got[[0, 2, 3]], np.stack([vec("b"), vec("a"), vec("b")]))
    assert (got[1] == 0).all()
    assert c.put_many([key("a"), key("d")], np.stack([vec("x"), vec("d")])) == 1  # "a" kept: first wins
    np.testing.assert_array_equal(c.get_many([key("a")])[1][0], vec("a"))
    assert len(EmbeddingCache(tmp_path, "m")) == 4  # persisted, visible to a new instance


def test_empty_cache_and_dim_mismatch(tmp_path):
    c = EmbeddingCache(tmp_path, "m")
    found, got = c.get_many([key("a")])
    assert not found.any() and got.shape == (1, 0)
    c.put_many([key("a")], vec("a")[None])
    with pytest.raises(CacheError, match="6-dim"):
        c.put_many([key("b")], np.zeros((1, 3), np.float32))


def test_key_includes_every_field():
    base = ("fp-1", "paper", "query", "text", 512, True)
    variants = [("fp-2",), (None, "mteb"), (None, None, "passage"), (None, None, None, "text2"),
                (None, None, None, None, 256), (None, None, None, None, None, False)]
    keys = {cache_key(*base)}
    for v in variants:
        keys.add(cache_key(*[b if i >= len(v) or v[i] is None else v[i] for i, b in enumerate(base)]))
    assert len(keys) == len(variants) + 1


def test_same_text_as_query_and_passage_is_two_entries(tmp_path):
    c = EmbeddingCache(tmp_path, "m")
    calls = []

    def encode(texts):
        calls.append(list(texts))
        return np.stack([vec(t) for t in texts])

    # The prompt style "none" gives the same final text for both roles: only the prompt type separates them.
    items = [(key("same", "query"), "same"), (key("same", "passage"), "same")]
    cached_encode(c, items, encode, batch_size=8)
    assert len(c) == 2 and calls == [["same", "same"]]


def test_cached_encode_encodes_misses_once_in_order(tmp_path):
    c = EmbeddingCache(tmp_path, "m")
    calls = []

    def encode(texts):
        calls.append(list(texts))
        return np.stack([vec(t) for t in texts])

    texts = ["x", "y", "x", "z", "y"]
    items = [(key(t), t) for t in texts]
    out = cached_encode(c, items[:2], encode, batch_size=2)
    np.testing.assert_array_equal(out, np.stack([vec("x"), vec("y")]))
    calls.clear()
    out = cached_encode(c, items, encode, batch_size=2)
    assert calls == [["z"]]  # x, y were cached; z encoded once though listed once; duplicates deduplicated
    np.testing.assert_array_equal(out, np.stack([vec(t) for t in texts]))
    calls.clear()
    assert cached_encode(None, items, encode, batch_size=2).shape == (5, DIM) and calls == [["x", "y"], ["z"]]


def _put_worker(root: str, worker: int) -> None:
    c = EmbeddingCache(root, "m")
    for r in range(6):
        texts = [f"t{(worker * 7 + r * 5 + j) % 40}" for j in range(8)]  # overlaps the other worker's keys
        c.put_many([key(t) for t in texts], np.stack([vec(t) for t in texts]))


def test_concurrent_put_from_two_processes(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_put_worker, args=(str(tmp_path), w)) for w in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    c = EmbeddingCache(tmp_path, "m")
    written = {f"t{(w * 7 + r * 5 + j) % 40}" for w in (0, 1) for r in range(6) for j in range(8)}
    found, got = c.get_many([key(t) for t in sorted(written)])
    assert found.all() and len(c) == len(written)
    np.testing.assert_array_equal(got, np.stack([vec(t) for t in sorted(written)]))


def _chunk_files(c: EmbeddingCache):
    return sorted(c.dir.glob("chunk-*.npy"))


@pytest.mark.parametrize("corruption", ["truncate", "flip"])
def test_corrupt_chunk_is_a_miss_with_warning(tmp_path, caplog, corruption):
    c = EmbeddingCache(tmp_path, "m")
    c.put_many([key("a"), key("b")], np.stack([vec("a"), vec("b")]))
    c.put_many([key("c")], vec("c")[None])
    victim = max(_chunk_files(c), key=lambda p: p.stat().st_size)  # the two-row chunk
    data = bytearray(victim.read_bytes())
    if corruption == "truncate":
        data = data[:-4]
    else:
        data[-3] ^= 0xFF  # same size: only the checksum sees it
    victim.write_bytes(bytes(data))
    fresh = EmbeddingCache(tmp_path, "m")  # a new process has not verified any chunk yet
    with caplog.at_level(logging.WARNING, logger="evaluation.cache"):
        found, got = fresh.get_many([key("a"), key("b"), key("c")])
    assert found.tolist() == [False, False, True]
    assert not got[:2].any() and (got[2] == vec("c")).all()
    assert "corrupt" in caplog.text and len(fresh) == 1 and not victim.exists()


def test_large_puts_split_into_bounded_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_mod, "CHUNK_BYTES", 4 * DIM * 3)  # 3 rows per chunk
    c = EmbeddingCache(tmp_path, "m")
    texts = [f"s{i}" for i in range(7)]
    c.put_many([key(t) for t in texts], np.stack([vec(t) for t in texts]))
    assert len(_chunk_files(c)) == 3
    np.testing.assert_array_equal(c.get_many([key(t) for t in texts])[1], np.stack([vec(t) for t in texts]))


@pytest.mark.parametrize("garbage", [b"this is not a database\n" * 100, b"SQLite format 3\0" + b"\xff" * 4080],
                         ids=["not-sqlite", "bad-header"])
def test_an_index_that_is_not_a_database_is_set_aside_and_rebuilt(tmp_path, garbage, caplog):
    c = EmbeddingCache(tmp_path, "m")
    c.put_many([key("a")], vec("a")[None])
    c._conn.close()
    ns = tmp_path / "embeddings" / "m"
    for wal in ns.glob("index.sqlite-*"):
        wal.unlink()
    (ns / "index.sqlite").write_bytes(garbage)
    [chunk] = ns.glob("chunk-*.npy")

    fresh = EmbeddingCache(tmp_path, "m")
    [aside] = ns.glob("corrupt-*")
    assert (aside / "index.sqlite").read_bytes() == garbage and (aside / chunk.name).is_file()
    assert len(fresh) == 0 and not fresh.get_many([key("a")])[0].any()  # a miss: re-encoded by the caller
    assert f"moved it and its 1 chunk files to {aside}" in caplog.text
    fresh.put_many([key("a")], vec("a")[None])
    assert fresh.get_many([key("a")])[0].all()


def test_a_cache_dir_that_cannot_be_written_names_the_path_and_the_fix(tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(UnwritableError, match=f"cannot write {tmp_path}/embeddings/m: Permission denied .* make that "
                                              f"folder writable, or set output.dir= / cache.dir="):
        EmbeddingCache(tmp_path, "m")
