"""Suites, score_run, the mteb / trec entry points, trec_eval-style output and `me5-eval score`."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from evaluation import trec_io
from evaluation.errors import ConfigError, DataError
from evaluation.scoring import (
    SUITE_METRICS,
    format_trec_eval,
    mteb_retrieval_scores,
    score_command,
    score_run,
    trec_retrieval_scores,
)

QRELS = {"q1": {"d1": 2, "d2": 1, "d3": 0}, "q2": {"d9": 1}, "q3": {"d5": 1}}
RUN = {"q1": {"d2": 0.9, "d1": 0.5, "dx": 0.4}, "q2": {"dy": 1.0, "d9": 0.5}}  # q3 absent


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path):
    trec_io.write_run(tmp_path / "bm25.run", RUN, tag="bm25")
    qrels = [f"{q} Q0 {d} {g}" for q, docs in QRELS.items() for d, g in docs.items()]
    return tmp_path / "bm25.run", write(tmp_path / "qrels.txt", qrels)


def test_suite_metric_names():
    names = {suite: [m.name for m in measures] for suite, measures in SUITE_METRICS.items()}
    assert names == {
        "miracl": ["ndcg_at_10", "recall_at_100"],
        "mrtydi": ["mrr_at_100", "mrr_at_10", "recall_at_100", "ndcg_at_10"],
        "beir": ["ndcg_at_10", "recall_at_100"],
    }
    assert {
        m.depth for measures in SUITE_METRICS.values() for m in measures if m.measure != "recip_rank"
    } == {100}


def test_score_run_by_hand():
    overall, per_query = score_run(RUN, QRELS, "mrtydi", per_query=True)
    # q1: d2 (1), d1 (2) -> nDCG = (1 + 2/log2 3) / (2 + 1/log2 3); q2: hit at rank 2; q3: absent -> 0
    assert per_query["q1"]["ndcg_at_10"] == pytest.approx(0.8597186998521972, abs=1e-12)
    assert per_query["q2"] == {
        "mrr_at_100": 0.5,
        "mrr_at_10": 0.5,
        "recall_at_100": 1.0,
        "ndcg_at_10": 0.6309297535714575,
    }
    assert per_query["q3"] == dict.fromkeys(per_query["q3"], 0.0)
    assert overall["mrr_at_10"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert overall["recall_at_100"] == pytest.approx(2 / 3)
    assert score_run(RUN, QRELS, "miracl")[1] == {}


def test_score_run_errors():
    with pytest.raises(ConfigError, match="unknown suite"):
        score_run(RUN, QRELS, "msmarco")
    with pytest.raises(DataError, match="share no query id"):
        score_run({"x1": {"d1": 1.0}}, QRELS, "miracl")
    with pytest.raises(DataError, match="no judged query"):
        score_run(RUN, {"q1": {}}, "miracl")


def test_mteb_scores_equal_mteb_evaluator():
    from mteb._evaluators.retrieval_evaluator import RetrievalEvaluator
    from mteb._evaluators.retrieval_metrics import make_score_dict

    run = {**RUN, "q3": {"q3": 9.0, "d5": 1.0}, "not-in-qrels": {"d1": 1.0}}
    for ignore in (False, True):
        results = {q: dict(docs) for q, docs in run.items() if q in QRELS}
        r = RetrievalEvaluator.evaluate(None, QRELS, results, [1, 3, 5, 10, 20, 100, 1000], ignore)
        expected = make_score_dict(
            ndcg=r.ndcg,
            _map=r.map,
            recall=r.recall,
            precision=r.precision,
            mrr=r.mrr,
            naucs=r.naucs,
            naucs_mrr=r.naucs_mrr,
            hit_rate=r.hit_rate,
            task_scores={},
        )
        assert mteb_retrieval_scores(run, QRELS, ignore_identical_ids=ignore) == pytest.approx(
            expected, nan_ok=True
        )
    assert mteb_retrieval_scores(run, QRELS)["mrr_at_10"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert mteb_retrieval_scores(run, QRELS, ignore_identical_ids=True)["mrr_at_10"] == pytest.approx(2.5 / 3)


def test_trec_overrides_mteb_and_differs_by_the_missing_queries(data_root):
    """SciFact: with n of N queries absent, trec -c = mteb * (N - n) / N; keys are mteb's."""
    qrels = trec_io.read_qrels(data_root / "beir" / "scifact" / "qrels" / "test.tsv")
    rng = random.Random(7)
    run = {
        q: {**{d: rng.random() for d in docs}, **{f"x{i}": rng.random() for i in range(30)}}
        for q, docs in qrels.items()
    }
    full_mteb, full_trec = mteb_retrieval_scores(run, qrels), trec_retrieval_scores(run, qrels, "mrtydi")
    assert full_mteb.keys() == full_trec.keys()
    for name in ("ndcg_at_10", "recall_at_100", "mrr_at_10", "mrr_at_100"):
        assert full_trec[name] == pytest.approx(full_mteb[name], abs=5e-6)  # mteb rounds to 5 decimals
    partial = {q: docs for i, (q, docs) in enumerate(run.items()) if i % 4}
    n_total, n_present = len(qrels), len(partial)
    mteb_s, trec_s = mteb_retrieval_scores(partial, qrels), trec_retrieval_scores(partial, qrels, "mrtydi")
    for name in ("ndcg_at_10", "recall_at_100", "mrr_at_10", "mrr_at_100"):
        assert trec_s[name] == pytest.approx(mteb_s[name] * n_present / n_total, abs=5e-6)
    assert trec_s["map_at_10"] == mteb_s["map_at_10"]  # not a suite metric: mteb's value kept


def test_format_trec_eval():
    overall = {"ndcg_at_10": 0.123456, "recall_at_100": 1.0}
    per_query = {
        "q2": {"ndcg_at_10": 0.5, "recall_at_100": 1.0},
        "q10": {"ndcg_at_10": 0.0, "recall_at_100": 1.0},
    }
    assert format_trec_eval(overall, per_query, False) == (
        "ndcg_at_10            \tall\t0.1235\nrecall_at_100         \tall\t1.0000\n"
    )
    lines = format_trec_eval(overall, per_query, True).splitlines()
    assert [line.split("\t")[1] for line in lines] == ["q10", "q10", "q2", "q2", "all", "all"]
    assert lines[2] == "ndcg_at_10            \tq2\t0.5000"


def test_score_command_prints_trec_eval_lines(files, capsys):
    run, qrels = files
    assert score_command([str(run), str(qrels), "--suite", "mrtydi"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "mrr_at_10             \tall\t0.5000"
    assert score_command([str(run), str(qrels), "--per-query"]) == 0
    assert "ndcg_at_10            \tq3\t0.0000" in capsys.readouterr().out


@pytest.mark.parametrize(
    "case,message",
    [
        ("missing", "missing data file for run file"),
        ("malformed", "bad.run:2: expected 6 fields"),
        ("disjoint", "share no query id"),
        ("no-model", "--save-json needs --model and --task"),
        ("bad-task", "unknown mteb task 'NoSuchTask'"),
        ("bad-subset", "has no subset 'xx'"),
    ],
)
def test_score_command_user_errors_exit_2(files, tmp_path, capsys, case, message):
    run, qrels = files
    argv = {
        "missing": [str(tmp_path / "nope.run"), str(qrels)],
        "malformed": [str(write(tmp_path / "bad.run", ["q1 Q0 d1 1 1.0 t", "q1 Q0 d2 2 0.5"])), str(qrels)],
        "disjoint": [str(write(tmp_path / "x.run", ["zz Q0 d1 1 1.0 t"])), str(qrels)],
        "no-model": [str(run), str(qrels), "--save-json", str(tmp_path / "r.json")],
        "bad-task": [
            str(run),
            str(qrels),
            "--save-json",
            str(tmp_path / "r.json"),
            "--model",
            "m",
            "--task",
            "NoSuchTask",
        ],
        "bad-subset": [str(run), str(qrels), "--save-json", str(tmp_path / "r.json"), "--model", "m"]
        + ["--task", "MIRACLRetrieval", "--subset", "xx"],
    }[case]
    assert score_command(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_save_json_is_an_mteb_task_result_and_merges_subsets(files, tmp_path, capsys):
    from mteb import TaskResult

    run, qrels = files
    out = tmp_path / "results" / "bm25" / "MIRACLRetrieval.json"
    common = ["--save-json", str(out), "--model", "bm25", "--task", "MIRACLRetrieval"]
    assert score_command([str(run), str(qrels), *common, "--subset", "sw"]) == 0
    assert score_command([str(run), str(qrels), *common, "--subset", "ar"]) == 0
    result = TaskResult.from_disk(out)
    assert result.task_name == "MIRACLRetrieval"
    entries = result.scores["dev"]
    assert [e["hf_subset"] for e in entries] == ["ar", "sw"]
    assert entries[1]["languages"] == ["swa-Latn"]
    overall, _ = score_run(RUN, QRELS, "miracl")
    assert entries[1]["main_score"] == entries[1]["ndcg_at_10"] == pytest.approx(overall["ndcg_at_10"])
    assert "map_at_10" in entries[1]
    doc = json.loads(out.read_text())
    assert doc["me5_eval"]["dev/sw"]["model"] == "bm25"
    assert doc["me5_eval"]["dev/sw"]["semantics"] == "trec_eval -c -M 100"
    assert list(out.parent.iterdir()) == [out]  # no temp file left behind
    # a file of another task is not overwritten
    assert score_command([str(run), str(qrels), *common[:4], "--task", "SciFact"]) == 2
    assert "is not an mteb TaskResult of SciFact" in capsys.readouterr().err
