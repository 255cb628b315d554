"""MIRACL / Mr.TyDi topics + qrels (+ JSONL corpus): real counts, consistency checks, corpus errors."""

from __future__ import annotations

import gzip
import json

import pytest

from evaluation.data import trec
from evaluation.data.registry import MIRACL_LANGS, MRTYDI_LANGS
from evaluation.errors import DataError, DataFileError

# README-retrieval.md: (topics, qrels lines, distinct judged docids)
MIRACL = {"ar": (2896, 29197, 25881), "bn": (411, 4206, 3729), "de": (305, 3144, 3103), "en": (799, 8350, 7921),
          "es": (648, 6443, 6410), "fa": (632, 6571, 6405), "fi": (1271, 12008, 11365), "fr": (343, 3429, 3407),
          "hi": (350, 3494, 3342), "id": (960, 9668, 8286), "ja": (860, 8354, 8066), "ko": (213, 3057, 2835),
          "ru": (1252, 13100, 12607), "sw": (482, 5092, 3514), "te": (828, 1606, 1457), "th": (733, 7573, 6868),
          "yo": (119, 1188, 942), "zh": (393, 3928, 3786)}  # fmt: skip
MRTYDI = {"ar": (1081, 1257, 1138), "bn": (111, 130, 116), "en": (744, 935, 908), "fi": (1254, 1451, 1186),
          "id": (829, 961, 886), "ja": (720, 923, 880), "ko": (421, 492, 397), "ru": (995, 1168, 1100),
          "sw": (670, 743, 552), "te": (646, 677, 600), "th": (1190, 1368, 1163)}  # fmt: skip


def _check(queries, qrels, expected):
    n_topics, n_lines, n_docs = expected
    assert len(queries) == n_topics and set(queries) == set(qrels)
    assert sum(len(d) for d in qrels.values()) == n_lines
    assert len({doc for d in qrels.values() for doc in d}) == n_docs


def test_miracl_dev_18_languages(data_root):
    assert set(MIRACL) == set(MIRACL_LANGS)
    total = 0
    for lang, expected in MIRACL.items():
        queries, qrels = trec.read_trec_queries(
            data_root / f"miracl/topics/topics.miracl-v1.0-{lang}-dev.tsv",
            data_root / f"miracl/qrels/qrels.miracl-v1.0-{lang}-dev.tsv",
        )
        _check(queries, qrels, expected)
        assert all(any(g > 0 for g in d.values()) for d in qrels.values())  # each query has a positive
        total += len(queries)
    assert total == 13_495


def test_mrtydi_test_11_languages(data_root):
    assert set(MRTYDI) == set(MRTYDI_LANGS.values())
    for lang, expected in MRTYDI.items():
        queries, qrels = trec.read_trec_queries(
            data_root / f"mrtydi/topics/topics.mrtydi-v1.1-{lang}.test.txt.gz",
            data_root / f"mrtydi/qrels/qrels.mrtydi-v1.1-{lang}.test.txt",
        )
        _check(queries, qrels, expected)


def test_mrtydi_corpus_sample(data_root):
    for lang in MRTYDI:
        corpus = trec.read_jsonl_corpus(data_root / f"mrtydi/corpus-sample/{lang}/corpus.jsonl.gz")
        assert len(corpus) == 4 and all(corpus.texts) and len(set(corpus.ids)) == 4
    en = trec.read_jsonl_corpus(data_root / "mrtydi/corpus-sample/en/corpus.jsonl.gz")
    assert en.ids == ["12#0", "12#1", "12#2", "12#3"] and en.titles[0] == "Anarchism"


def _files(tmp_path, topics="1\tq one\n2\tq two\n", qrels="1 Q0 d1 1\n2 Q0 d2 0\n", corpus=None):
    (tmp_path / "topics.tsv").write_text(topics)
    (tmp_path / "qrels.txt").write_text(qrels)
    corpus = (
        corpus if corpus is not None else [{"docid": "d1", "title": "t", "text": "x"}, {"docid": "d2", "text": "y"}]
    )
    with gzip.open(tmp_path / "corpus.jsonl.gz", "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(doc) + "\n" for doc in corpus)
    return tmp_path / "topics.tsv", tmp_path / "qrels.txt", tmp_path / "corpus.jsonl.gz"


def test_small_collection_loads_with_zero_grades_kept(tmp_path):
    data = trec.read_trec_retrieval(*_files(tmp_path))
    assert data.queries == {"1": "q one", "2": "q two"} and data.qrels["2"] == {"d2": 0}
    assert data.corpus.ids == ["d1", "d2"] and data.corpus.titles == ["t", ""]


def test_lazy_corpus_of_a_gzipped_collection_reads_windows_like_the_full_loader(tmp_path):
    files = _files(tmp_path)
    full, lazy = trec.read_trec_retrieval(*files), trec.read_trec_retrieval(*files, lazy_corpus=True)
    assert lazy.corpus.ids == full.corpus.ids and lazy.corpus.window(1, 2) == full.corpus.window(1, 2)
    with pytest.raises(DataError, match="the corpus is empty"):
        trec.read_trec_retrieval(*_files(tmp_path, corpus=[]), lazy_corpus=True)


def test_qrels_queries_missing_from_topics(tmp_path):
    files = _files(tmp_path, qrels="1 Q0 d1 1\n7 Q0 d1 1\n8 Q0 d2 1\n")
    with pytest.raises(DataError, match=r"queries not in the topics file .*: 2 \('7', '8'\)"):
        trec.read_trec_retrieval(*files)


def test_topics_without_qrels(tmp_path):
    files = _files(tmp_path, topics="1\tq one\n2\tq two\n3\tq three\n", qrels="1 Q0 d1 1\n")
    with pytest.raises(DataError, match=r"topics without any qrels .*: 2 \('2', '3'\).*allow_unjudged=True"):
        trec.read_trec_retrieval(*files)
    assert list(trec.read_trec_retrieval(*files, allow_unjudged=True).queries) == ["1"]
    files = _files(tmp_path, topics="5\tq\n", qrels="1 Q0 d1 1\n")
    with pytest.raises(DataError, match="queries not in the topics"):
        trec.read_trec_retrieval(*files, allow_unjudged=True)


def test_corpus_errors(tmp_path):
    with pytest.raises(DataError, match="the corpus is empty"):
        trec.read_trec_retrieval(*_files(tmp_path, corpus=[]))
    dup = [{"docid": "d1", "text": "x"}, {"docid": "d2", "text": "y"}, {"docid": "d1", "text": "z"}]
    with pytest.raises(DataFileError, match=r"corpus.jsonl.gz:3: duplicate document id 'd1' \(first at line 1\)"):
        trec.read_trec_retrieval(*_files(tmp_path, corpus=dup))
    with pytest.raises(DataFileError, match=r"corpus.jsonl.gz:1: expected key 'docid'"):
        trec.read_trec_retrieval(*_files(tmp_path, corpus=[{"id": "d1", "text": "x"}]))
