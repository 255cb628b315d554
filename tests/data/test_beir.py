"""BEIR layout (SciFact): counts, query filtering by split qrels, malformed JSONL."""

from __future__ import annotations

import json

import pytest

from evaluation.data import beir
from evaluation.errors import DataError, DataFileError, MissingDataError


def test_scifact_counts(data_root):
    data = beir.read_beir(data_root / "beir" / "scifact", "test")
    assert len(data.corpus) == 5_183 and len(data.queries) == 300
    assert sum(len(d) for d in data.qrels.values()) == 339
    assert set(data.queries) == set(data.qrels) and list(data.queries)[:3] == ["1", "3", "5"]
    assert {d for docs in data.qrels.values() for d in docs} <= set(data.corpus.ids)
    assert data.corpus.titles[0] and not data.corpus.texts[0].startswith(data.corpus.titles[0])  # kept apart
    assert beir.count_beir(data_root / "beir" / "scifact") == {"queries": 300, "documents": 5_183}


def _beir_dir(tmp_path, corpus_lines, queries_lines, qrels="query-id\tcorpus-id\tscore\nq1\td1\t1\n"):
    (tmp_path / "qrels").mkdir(exist_ok=True)
    (tmp_path / "qrels" / "test.tsv").write_text(qrels)
    (tmp_path / "corpus.jsonl").write_text("".join(line + "\n" for line in corpus_lines))
    (tmp_path / "queries.jsonl").write_text("".join(line + "\n" for line in queries_lines))
    return tmp_path


def test_only_judged_queries_are_kept(tmp_path):
    doc = json.dumps({"_id": "d1", "title": "T", "text": "x"})
    qs = [json.dumps({"_id": "q0", "text": "train query"}), json.dumps({"_id": "q1", "text": "test query"})]
    data = beir.read_beir(_beir_dir(tmp_path, [doc], qs))
    assert data.queries == {"q1": "test query"} and data.corpus.titles == ["T"]


@pytest.mark.parametrize(
    ("corpus", "problem"),
    [
        (['{"_id": "d1", "text": "x"}', '{"_id": "d1", "text": "y"}'], r"corpus.jsonl:2: duplicate document id 'd1'"),
        (['{"_id": "d1", "text": "x"}', "{not json"], r"corpus.jsonl:2: expected a JSON object, got invalid JSON"),
        (['{"_id": "d1"}'], r"corpus.jsonl:1: expected key 'text'"),
    ],
)
def test_malformed_corpus(tmp_path, corpus, problem):
    with pytest.raises(DataFileError, match=problem):
        beir.read_beir(_beir_dir(tmp_path, corpus, ['{"_id": "q1", "text": "q"}']))


def test_qrels_query_missing_from_queries_and_missing_split(tmp_path):
    folder = _beir_dir(tmp_path, ['{"_id": "d1", "text": "x"}'], ['{"_id": "q9", "text": "q"}'])
    with pytest.raises(DataError, match=r"1 judged queries are not in queries.jsonl, e.g. \['q1'\]"):
        beir.read_beir(folder)
    with pytest.raises(MissingDataError, match=r"qrels/dev.tsv"):
        beir.read_beir(folder, "dev")


def test_lazy_corpus_holds_ids_and_reads_a_shard_window_like_the_full_loader(data_root):
    full = beir.read_beir(data_root / "beir" / "scifact", "test")
    lazy = beir.read_beir(data_root / "beir" / "scifact", "test", lazy_corpus=True)
    assert (lazy.queries, lazy.qrels) == (full.queries, full.qrels)
    assert lazy.corpus.ids == full.corpus.ids and len(lazy.corpus) == 5_183
    assert lazy.corpus.window(1000, 1010) == full.corpus.window(1000, 1010)


def test_lazy_corpus_refuses_a_file_that_changed_after_its_ids_were_read(tmp_path):
    corpus = ['{"_id": "d1", "text": "x"}', '{"_id": "d2", "text": "y"}']
    d = _beir_dir(tmp_path, corpus, ['{"_id": "q1", "text": "q"}'])
    lazy = beir.read_beir(d, "test", lazy_corpus=True)
    (d / "corpus.jsonl").write_text('{"_id": "d9", "text": "x"}\n{"_id": "d2", "text": "y"}\n')
    with pytest.raises(DataFileError, match=r"corpus.jsonl: documents 0..2 changed while the run was reading"):
        lazy.corpus.window(0, 2)


def test_qrels_without_judgements_and_qrels_of_another_corpus(tmp_path):
    doc, query = '{"_id": "d1", "text": "x"}', '{"_id": "q1", "text": "q"}'
    folder = _beir_dir(tmp_path, [doc], [query], qrels="query-id\tcorpus-id\tscore\n")
    with pytest.raises(DataFileError, match=r"test.tsv: holds no relevance judgement"):
        beir.read_beir(folder)
    # judged documents partly missing from the corpus is normal; all of them missing scores a silent 0
    folder = _beir_dir(tmp_path, [doc], [query], qrels="query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td8\t1\n")
    assert beir.read_beir(folder).qrels == {"q1": {"d1": 1, "d8": 1}}
    folder = _beir_dir(tmp_path, [doc], [query], qrels="query-id\tcorpus-id\tscore\nq1\td8\t1\nq1\td9\t0\n")
    with pytest.raises(DataError, match=r"test.tsv: none of the 2 judged documents \(e.g. \['d8', 'd9'\]\) is in the "
                                        r"corpus .*corpus.jsonl \(1 documents, e.g. \['d1'\]\); point the task at"):
        beir.read_beir(folder)
