"""Faults that take more than one command to show: what a run keeps, sets aside, rebuilds or refuses, checked with
the files on disk (the one-command bad inputs are the table in tests/test_bad_input.py)."""

from __future__ import annotations

import gc
import json
import os
import re
import shutil

import pytest
from bad_input_cases import (
    CORPUS,
    MODEL_AT_TMP,
    QRELS,
    QUERIES,
    RUN_SCIFACT,
    beir_files,
    case,
    error_lines,
    fp16_overflow_copy,
    run_case,
    write_files,
)

from evaluation.cli import main


def test_ids_with_spaces_score_like_pytrec_eval_and_the_run_file_is_refused_after_the_result(
        tmp_path, capsys, shared_cache_dir):
    """BEIR qrels are tab-separated, so ids may hold spaces: they must score (not a silent 0); a TREC run file cannot
    hold them (trec_eval splits on whitespace), so the result JSON is written and then the run file is refused."""
    import pytrec_eval

    corpus = CORPUS + json.dumps({"_id": "d4", "title": "Life", "text": "life on earth began in the sea"}) + "\n"
    qrels = QRELS + "q3\td2\t2\nq3\td4\t1\n"  # graded so that the model cannot rank q3 perfectly
    queries = QUERIES + json.dumps({"_id": "q3", "text": "where did life begin"}) + "\n"
    plain, spaced = tmp_path / "plain", tmp_path / "spaced"
    write_files(plain, beir_files(corpus, queries, qrels))
    # spaced document ids: today's whitespace split reads 'q1<TAB>doc 1<TAB>1' as TREC 'qid Q0 docid rel' with
    # docid '1', and every score is a silent 0
    spaced_corpus, spaced_qrels = corpus.replace('"_id": "d', '"_id": "doc '), qrels.replace("\td", "\tdoc ")
    write_files(spaced, beir_files(spaced_corpus, queries, spaced_qrels))
    common = ["model=minilm", "suite=mteb-en", "tasks=[SciFact]", f"cache.dir={shared_cache_dir}"]
    assert main(["run", *common, f"data.paths.SciFact={plain / 'beir'}", f"output.dir={tmp_path / 'out-plain'}"]) == 0
    [plain_run] = (tmp_path / "out-plain").rglob("default.run.trec")
    capsys.readouterr()

    rc = main(["run", *common, f"data.paths.SciFact={spaced / 'beir'}", f"output.dir={tmp_path / 'out'}"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    [line] = error_lines(err)
    assert re.search(r"document id 'doc \d' contains whitespace", line)
    assert "the scores in the result JSON are right" in line
    [result] = (tmp_path / "out").rglob("SciFact.json")  # the score is kept ...
    assert not list((tmp_path / "out").rglob("*.run.trec"))  # ... and no run file trec_eval would misread

    # the same texts with spaced ids: the same ranking, scored by pytrec_eval on the spaced qrels
    qrels_spaced = {}
    for row in qrels.splitlines()[1:]:
        qid, docid, grade = row.split("\t")
        qrels_spaced.setdefault(qid, {})[docid.replace("d", "doc ")] = int(grade)
    run_spaced = {}
    for row in plain_run.read_text().splitlines():
        qid, _, docid, _, score, _ = row.split()
        run_spaced.setdefault(qid, {})[docid.replace("d", "doc ")] = float(score)
    per_query = pytrec_eval.RelevanceEvaluator(qrels_spaced, {"ndcg_cut.10"}).evaluate(run_spaced)
    expected = sum(row["ndcg_cut_10"] for row in per_query.values()) / len(per_query)
    stored = json.loads(result.read_text())["scores"]["test"][0]["ndcg_at_10"]
    assert len(per_query) == 3 and 0.5 < expected < 1.0  # q3 is not ranked perfectly: a real check, not a 0 or 1
    assert stored == pytest.approx(expected, abs=1e-5)


def test_the_fix_named_for_a_float16_overflow_works(tmp_path, capsys, shared_cache_dir, minilm_dir):
    fp16_overflow_copy({"tmp": tmp_path, "minilm": minilm_dir})
    write_files(tmp_path, beir_files())
    argv = [a.format(beir=tmp_path / "beir", out=tmp_path / "out", cache=shared_cache_dir, tmp=tmp_path)
            for a in MODEL_AT_TMP]
    assert main([*argv, "model.dtype=float16"]) == 2
    assert main([*argv, "model.dtype=float32"]) == 0
    [result] = (tmp_path / "out").rglob("SciFact.json")
    assert json.loads(result.read_text())["scores"]["test"][0]["ndcg_at_10"] == 1.0  # both queries find their doc


NOT_RESULTS = {"list": "[]", "no-scores": "{}", "scores-a-list": '{"scores": []}', "truncated": '{"scores": {"',
               "split-not-a-list": '{"scores": {"test": {"x": 1}}}',
               "entry-not-a-dict": '{"task_name": "SciFact", "scores": {"test": [7]}}',
               "nan-main-score": '{"task_name": "SciFact", "scores": {"test": [{"hf_subset": "default", '
                                 '"main_score": NaN}]}}',
               "not-an-mteb-result": '{"scores": {"test": [{"hf_subset": "default", "main_score": 0.5}]}}'}


@pytest.mark.parametrize("content", NOT_RESULTS.values(), ids=NOT_RESULTS.keys())
def test_a_result_file_that_is_not_a_result_is_kept_aside_and_recomputed(content, tmp_path, complete_results,
                                                                         shared_cache_dir, caplog):
    out = tmp_path / "out"
    shutil.copytree(complete_results, out)
    [result] = out.rglob("SciFact.json")
    good = result.read_bytes()
    result.write_text(content)
    write_files(tmp_path, beir_files())
    argv = [a.format(beir=tmp_path / "beir", out=out, cache=shared_cache_dir) for a in RUN_SCIFACT]
    assert main(argv) == 0
    [aside] = result.parent.glob("SciFact.invalid-*.json")
    assert aside.read_text() == content  # kept, byte for byte, for whoever wants to look at it
    assert result.read_bytes() != content.encode()
    assert json.loads(result.read_bytes())["scores"] == json.loads(good)["scores"]  # recomputed: the same scores
    assert f"moved it to {aside}" in caplog.text


def test_a_metric_that_comes_out_nan_is_never_stored(tmp_path, complete_results, shared_cache_dir, capsys, monkeypatch):
    """Whatever makes a metric NaN (a degenerate data set, a broken evaluator), it is an error, not a result."""
    from evaluation import runner

    real = runner.evaluate_spec

    def nan_ndcg(ctx, spec):
        scores = real(ctx, spec)
        scores["default"].update(ndcg_at_10=float("nan"), main_score=float("nan"))
        return scores

    monkeypatch.setattr(runner, "evaluate_spec", nan_ndcg)  # the runner's reference: it imports the function
    c = case("nan-metric", "SciFact/default (test): ndcg_at_10 is NaN", [*RUN_SCIFACT, "output.overwrite=true"],
             beir_files())
    rc, err = run_case(c, tmp_path, complete_results, {"cache": shared_cache_dir}, capsys)
    assert rc == 2 and "Traceback" not in err
    [line] = error_lines(err)
    assert c.expect in line and "not stored" in line


def test_an_embedding_index_that_is_not_a_database_is_set_aside_and_rebuilt(tmp_path, complete_results, caplog):
    """Chosen over an error: the index only speeds reruns up, so the run rebuilds it (re-encoding what it needs),
    and keeps the old index and its chunk files in a corrupt-<timestamp>/ folder for whoever wants to look."""
    write_files(tmp_path, beir_files())
    out, cache = tmp_path / "out", tmp_path / "cache"
    argv = [a.format(beir=tmp_path / "beir", out=out, cache=cache) for a in RUN_SCIFACT]
    assert main(argv) == 0
    [result] = out.rglob("SciFact.json")
    scores = json.loads(result.read_text())["scores"]
    texts = cache / "embeddings" / "texts"
    chunks = sorted(p.name for p in texts.glob("chunk-*.npy"))
    gc.collect()  # close the first run's SQLite connection, as its process would have: the last one to close
    for wal in texts.glob("index.sqlite-*"):  # checkpoints the write-ahead log into index.sqlite
        wal.unlink()
    (texts / "index.sqlite").write_bytes(b"this is not a database\n" * 200)

    assert main([*argv, "output.overwrite=true"]) == 0
    [aside] = texts.glob("corrupt-*")
    assert (aside / "index.sqlite").read_bytes() == b"this is not a database\n" * 200
    assert sorted(p.name for p in aside.glob("chunk-*.npy")) == chunks
    assert f"moved it and its {len(chunks)} chunk files to {aside}" in caplog.text
    assert json.loads(result.read_text())["scores"] == scores
    assert main([*argv, "output.overwrite=true"]) == 0 and len(list(texts.glob("corrupt-*"))) == 1  # rebuilt once


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o002, 0o664)])
def test_result_files_are_readable_as_the_users_umask_says(mask, mode, tmp_path, shared_cache_dir):
    """A shared results folder on a cluster: the group reads (umask 022) or also writes (002) what a run made."""
    write_files(tmp_path, beir_files())
    argv = [a.format(beir=tmp_path / "beir", out=tmp_path / "out", cache=shared_cache_dir) for a in RUN_SCIFACT]
    old = os.umask(mask)
    try:
        assert main(argv) == 0
    finally:
        os.umask(old)
    made = [p for p in (tmp_path / "out").rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    assert {p.name for p in made} >= {"SciFact.json", "model_meta.json", "default.run.trec", "default.per_item.jsonl"}
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in made} == {p.name: oct(mode) for p in made}


def test_ctrl_c_is_one_line_saying_what_is_kept_and_how_to_resume(tmp_path, complete_results, shared_cache_dir,
                                                                  monkeypatch, capsys):

    from evaluation import runner

    def interrupted(ctx, spec):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "evaluate_spec", interrupted)
    c = case("ctrl-c", "", [*RUN_SCIFACT, "output.overwrite=true"], beir_files())
    rc, err = run_case(c, tmp_path, complete_results, {"cache": shared_cache_dir}, capsys)
    assert rc == 130 and "Traceback" not in err  # 128 + SIGINT, as a shell reports it
    [line] = [line for line in err.splitlines() if "interrupted" in line]
    assert err.rstrip("\n").endswith(line)
    assert "results and cached embeddings written so far are complete and kept" in line
    assert "rerun the same command to resume" in line
