"""TREC qrels / run / topics files: formats, trec_eval order, and file:line errors."""

from __future__ import annotations

import gzip

import pytest

from evaluation.errors import DataFileError
from evaluation.trec_io import RunIdError, read_qrels, read_run, read_topics, write_run


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


def test_tab_separated_qrels_keep_ids_with_spaces(tmp_path):
    """BEIR qrels are tab-separated (mteb reads them with a tab delimiter): a space belongs to the id."""
    path = tmp_path / "test.tsv"
    path.write_text("query-id\tcorpus-id\tscore\nq 1\tdoc 7\t1\nq2\td2\t0\n")
    assert read_qrels(path) == {"q 1": {"doc 7": 1}, "q2": {"d2": 0}}
    path.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2 d2 0\n")  # a space-separated row in a tab file
    with pytest.raises(DataFileError, match=r"test.tsv:3: expected 3 tab-separated fields \(query-id, corpus-id, "
                                            r"score\) like the file's first line, got 1"):
        read_qrels(path)


def test_run_scores_must_be_finite(tmp_path):
    path = tmp_path / "run.trec"
    for value in ("nan", "-inf", "1e400"):
        path.write_text(f"q Q0 a 1 0.5 t\nq Q0 b 2 {value} t\n")
        with pytest.raises(DataFileError, match=rf"run.trec:2: expected a finite score, got '{value}'"):
            read_run(path)


def test_bytes_that_are_not_utf8_are_located(tmp_path):
    path = tmp_path / "run.trec"
    path.write_bytes(b"q Q0 a 1 0.5 t\nq Q0 caf\xe9 2 0.4 t\n")  # latin-1 e-acute: offset 15 + 8
    with pytest.raises(DataFileError, match=r"run.trec:2: not UTF-8: byte 0xe9 at byte offset 23 in the file; "
                                            r"re-encode the file as UTF-8"):
        read_run(path)
    gz = tmp_path / "topics.tsv.gz"
    gz.write_bytes(gzip.compress(b"1\tok\n2\t\xff\n"))
    with pytest.raises(DataFileError, match=r"topics.tsv.gz:2: not UTF-8: byte 0xff at byte offset 7 of the "
                                            r"uncompressed text"):
        read_topics(gz)


def test_broken_gzip_files(tmp_path):
    path = tmp_path / "qrels.txt.gz"
    data = gzip.compress(b"1 Q0 d1 1\n" * 50)
    for content, problem in ((b"1 Q0 d1 1\n", "not a gzip file; if it is plain text, drop the .gz"),
                             (data[:-10], "truncated: the gzip stream ends early"),
                             (data[:12] + b"\xff" * 6 + data[18:], "corrupt gzip data")):
        path.write_bytes(content)
        with pytest.raises(DataFileError, match=f"^{path}: {problem}"):
            read_qrels(path)


def test_write_run_refuses_ids_trec_eval_would_misread(tmp_path):
    path = tmp_path / "run.trec"
    for run, bad in (({"q": {"doc 1": 1.0}}, "document id 'doc 1' contains whitespace"),
                     ({"q\t1": {"d": 1.0}}, "query id 'q\\\\t1' contains whitespace"),
                     ({"q": {"": 1.0}}, "document id '' is empty")):
        with pytest.raises(RunIdError, match=f"run.trec: not written: {bad}"):
            write_run(path, run)
        assert not path.exists()
    write_run(path, {"q": {"doc 1": 0.5, "d2": 1.0}}, depth=1)  # only the written top-depth ids must be words
    assert path.read_text() == "q Q0 d2 1 1.0 me5-eval\n"


def test_a_byte_order_mark_is_not_part_of_the_first_line(tmp_path):
    """Excel and Notepad start UTF-8 files with U+FEFF: the BEIR header must still read as the header."""
    path = tmp_path / "test.tsv"
    path.write_text("\ufeffquery-id\tcorpus-id\tscore\nq1\td1\t1\n", encoding="utf-8")
    assert read_qrels(path) == {"q1": {"d1": 1}}
