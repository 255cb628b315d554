"""TREC qrels / run / topics files: formats, trec_eval order, and file:line errors."""

from __future__ import annotations

import gzip

import pytest

from evaluation.errors import DataFileError
from evaluation.trec_io import read_qrels, read_run, read_topics, write_run


def test_trec_and_beir_qrels_read_the_same(tmp_path):
    trec = tmp_path / "q.txt"
    trec.write_text("1 Q0 d1 1\n1\tQ0\td2\t0\n2 Q0 d3 2\n")
    beir = tmp_path / "q.tsv"
    beir.write_text("query-id\tcorpus-id\tscore\n1\td1\t1\n1\td2\t0\n2\td3\t2\n")
    assert read_qrels(trec) == read_qrels(beir) == {"1": {"d1": 1, "d2": 0}, "2": {"d3": 2}}


def test_duplicate_qrels_keep_the_last_grade_like_trec_eval(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("1 Q0 d1 2\n1 Q0 d1 0\n")
    assert read_qrels(path) == {"1": {"d1": 0}}


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        ("1 Q0 d1 1\n1 Q0 d2\n", 2, "expected 4 fields"),
        ("1 Q0 d1 x\n", 1, "expected an integer relevance grade, got 'x'"),
        ("1 d1\n", 1, "got 2 fields"),
    ],
)
def test_malformed_qrels_name_file_and_line(tmp_path, content, line, problem):
    path = tmp_path / "bad.qrels"
    path.write_text(content)
    with pytest.raises(DataFileError, match=problem) as err:
        read_qrels(path)
    assert str(err.value).startswith(f"{path}:{line}:")


def test_write_run_uses_trec_eval_order_depth_and_round_trips(tmp_path):
    run = {"q2": {"a": 0.5}, "q1": {"a": 1.0, "b": 1.0, "c": 3.0, "d": 0.1}}
    path = tmp_path / "sub" / "run.trec"
    write_run(path, run, tag="t", depth=3)
    lines = path.read_text().splitlines()
    # score descending, ties by docid DESCENDING (b before a), ranks from 1
    assert lines[:3] == ["q1 Q0 c 1 3.0 t", "q1 Q0 b 2 1.0 t", "q1 Q0 a 3 1.0 t"]
    assert lines[3] == "q2 Q0 a 1 0.5 t"
    assert read_run(path) == {"q1": {"c": 3.0, "b": 1.0, "a": 1.0}, "q2": {"a": 0.5}}
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_write_run_keeps_full_float_precision(tmp_path):
    """Rounded scores would tie and trec_eval would then re-order them by docid (b before a)."""
    path = tmp_path / "run.trec"
    scores = {"a": 0.1234567892, "b": 0.1234567891}
    write_run(path, {"q": scores})
    assert read_run(path)["q"] == scores
    assert [line.split()[2] for line in path.read_text().splitlines()] == ["a", "b"]


def test_read_run_rejects_malformed_and_duplicate_lines(tmp_path):
    path = tmp_path / "run.trec"
    path.write_text("q Q0 d 1 0.5 tag\nq Q0 d 2 0.4 tag\n")
    with pytest.raises(DataFileError, match=r"run.trec:2: duplicate document 'd'"):
        read_run(path)
    path.write_text("q Q0 d 1 high tag\n")
    with pytest.raises(DataFileError, match=r"run.trec:1: expected a number score, got 'high'"):
        read_run(path)
    path.write_text("q Q0 d 1 0.5\n")
    with pytest.raises(DataFileError, match="run.trec:1: expected 6 fields"):
        read_run(path)


def test_topics_plain_and_gzip(tmp_path):
    plain = tmp_path / "t.tsv"
    plain.write_text("81674#0\tWhat is\ta tab?\n2\tsecond\n")
    gz = tmp_path / "t.tsv.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as f:
        f.write(plain.read_text())
    assert read_topics(plain) == read_topics(gz) == {"81674#0": "What is\ta tab?", "2": "second"}
    plain.write_text("1\tok\nno-tab-here\n")
    with pytest.raises(DataFileError, match=r"t.tsv:2: expected 'qid<TAB>query text'"):
        read_topics(plain)
