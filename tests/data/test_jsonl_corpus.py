"""evaluation/data/jsonl_corpus.py: a sweep job reads exactly its shard's window of a JSONL corpus, parsed as the
loaders parse it, and the corpus is counted once."""

from __future__ import annotations

import gzip
import os

import pytest

import evaluation.data._files as files
from evaluation.data.beir import read_beir_corpus
from evaluation.data.jsonl_corpus import corpus_count, read_corpus_window
from evaluation.data.trec import read_jsonl_corpus
from evaluation.errors import DataFileError
from evaluation.shards import shard_plan


def test_a_window_holds_exactly_its_shard_of_a_beir_corpus(data_root, tmp_path):
    path = data_root / "beir" / "scifact" / "corpus.jsonl"
    full = read_beir_corpus(path)
    n = corpus_count(path, str(tmp_path))
    assert n == len(full) == 5183  # SciFact's corpus (BEIR)
    for rng in shard_plan(n, 3, 1000):
        win = read_corpus_window(path, "_id", n, rng.start, rng.end)
        assert len(win) == n
        assert win.ids[rng.start : rng.end] == full.ids[rng.start : rng.end]
        assert [win.titles[i] for i in range(rng.start, rng.end)] == full.titles[rng.start : rng.end]
        assert [win.texts[i] for i in (rng.start, rng.end - 1)] == [full.texts[rng.start], full.texts[rng.end - 1]]
        outside = rng.start - 1 if rng.start else rng.end  # a document of another shard: never loaded
        with pytest.raises(IndexError):
            win.ids[outside]
        with pytest.raises(IndexError):
            win.ids[outside : outside + 2]


def test_a_window_of_a_gzipped_trec_corpus_reads_like_the_loader(data_root, tmp_path):
    lines = []
    for lang in ("ar", "en", "ja", "sw"):
        with gzip.open(data_root / "mrtydi" / "corpus-sample" / lang / "corpus.jsonl.gz", "rt", encoding="utf-8") as f:
            lines += [line for line in f if line.strip()]
    path = tmp_path / "corpus.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("".join(lines[:5]) + "\n" + "".join(lines[5:]))  # a blank line: skipped by both readers
    full = read_jsonl_corpus(path)
    win = read_corpus_window(path, "docid", len(full), 3, 11)
    assert win.ids[3:11] == full.ids[3:11] and [win.texts[i] for i in range(3, 11)] == full.texts[3:11]


def test_corpus_count_is_remembered_until_the_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "corpus.jsonl"
    path.write_text('{"_id": "a", "text": "x"}\n\n{"_id": "b", "text": "y"}\n')
    assert corpus_count(path, str(tmp_path / "c")) == 2
    monkeypatch.setattr(files, "count_lines", lambda p: pytest.fail("counted again"))
    assert corpus_count(path, str(tmp_path / "c")) == 2
    monkeypatch.undo()
    path.write_text('{"_id": "a", "text": "x"}\n')
    os.utime(path, ns=(1, 1))
    assert corpus_count(path, str(tmp_path / "c")) == 1


def test_a_corpus_that_shrank_after_counting_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(f'{{"_id": "d{i}", "text": "t{i}"}}\n' for i in range(4)))
    assert read_corpus_window(path, "_id", 6, 2, 4).ids[2:4] == ["d2", "d3"]
    with pytest.raises(DataFileError, match=r"corpus.jsonl: has fewer documents than the 6 counted before"):
        read_corpus_window(path, "_id", 6, 4, 6)
