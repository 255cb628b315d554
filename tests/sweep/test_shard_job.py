"""evaluation/sweep/shard_job.py: one sweep job reads only its shard's documents and stores only its shard.

Corpus: ``mini_scifact`` (tests/conftest.py), 64 real SciFact documents; 4 shards are documents 0-16, 16-32, 32-48,
48-64 of the file.
"""

from __future__ import annotations

import json

import pytest

from evaluation.compose import compose_run_config
from evaluation.errors import ConfigError
from evaluation.suites import resolve_suite
from evaluation.sweep.shard_job import ShardDocuments, encode_worker_shard


def overrides(corpus, base, *extra):
    return ["model=minilm", "suite=mteb-en", "tasks=[SciFact]", "data.root=null", f"data.paths.SciFact={corpus}",
            f"cache.dir={base / 'cache'}", "block_rows=16", *extra]


def test_a_job_reads_only_its_shard_of_a_local_corpus(mini_scifact, tmp_path):
    cfg = compose_run_config(overrides(mini_scifact, tmp_path, "shards=4", "shard_index=1"))
    [spec] = resolve_suite(cfg.suite, cfg.tasks, cfg.langs)
    docs = ShardDocuments(cfg, spec, "default", {})
    corpus = docs.window(16, 32)
    file_ids = [json.loads(line)["_id"] for line in (mini_scifact / "corpus.jsonl").read_text().splitlines()]
    assert docs.n_docs == len(corpus) == 64 and corpus.ids[16:32] == file_ids[16:32]
    with pytest.raises(IndexError):  # a document of shard 0 was never read
        corpus.ids[15]


def test_a_job_reads_its_shard_block_by_block_ahead_of_the_encoder(mini_scifact, tmp_path):
    """The unstored shard's path: blocks of block_rows documents, the same documents the window holds."""
    cfg = compose_run_config(overrides(mini_scifact, tmp_path, "shards=2", "shard_index=1", "block_rows=8"))
    [spec] = resolve_suite(cfg.suite, cfg.tasks, cfg.langs)
    docs = ShardDocuments(cfg, spec, "default", {})
    blocks = list(docs.blocks(32, 64, 8))
    assert [len(b) for b in blocks] == [8, 8, 8, 8]
    window = docs.window(32, 64)
    assert [i for b in blocks for i in b.ids] == window.ids[32:64]
    assert [t for b in blocks for t in b.texts] == window.texts[32:64]


def test_a_corpus_cut_after_it_was_counted_fails_naming_the_file(mini_scifact, tmp_path):
    """The count is remembered; a file that lost documents since must not give a shorter shard."""
    from evaluation.errors import DataFileError

    cfg = compose_run_config(overrides(mini_scifact, tmp_path, "shards=2", "shard_index=1", "block_rows=8"))
    [spec] = resolve_suite(cfg.suite, cfg.tasks, cfg.langs)
    docs = ShardDocuments(cfg, spec, "default", {})
    docs.path = tmp_path / "cut.jsonl"
    docs.path.write_text("".join((mini_scifact / "corpus.jsonl").read_text().splitlines(keepends=True)[:60]))
    with pytest.raises(DataFileError, match="cut.jsonl.*fewer documents than the 64 counted"):
        list(docs.blocks(32, 64, 8))


@pytest.mark.parametrize("index", ["4", "null"])
def test_the_shard_index_must_be_one_of_the_shards(mini_scifact, tmp_path, index):
    """4: refused when the config is composed; null (a job without an index): by the job itself."""
    with pytest.raises(ConfigError, match=r"shard_index=.* must be one of 0..3 \(shards=4\)"):
        encode_worker_shard(compose_run_config(overrides(mini_scifact, tmp_path, "shards=4", f"shard_index={index}")))


@pytest.mark.slow
def test_a_job_encodes_its_shard_once_and_then_finds_it_stored(mini_scifact, tmp_path):
    cfg = compose_run_config(overrides(mini_scifact, tmp_path, "shards=4", "shard_index=2"))
    first = encode_worker_shard(cfg)
    [item] = first["items"]
    assert (first["status"], first["shard"], first["shards"]) == ("ok", 2, 4)
    assert (item["task"], item["subset"], item["start"], item["end"], item["encoded"]) == (
        "SciFact", "default", 32, 48, True)
    assert sorted(p.name for p in (tmp_path / "cache" / "shards").rglob("shard-*.*") if p.suffix != ".lock"
                  and p.suffix != ".encode") == ["shard-00002.json", "shard-00002.npy"]
    [again] = encode_worker_shard(cfg)["items"]
    assert not again["encoded"] and again["key"] == item["key"]
