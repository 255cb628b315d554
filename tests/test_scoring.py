"""Suites, score_run and the mteb / trec entry points (the `me5-eval score` command: tests/commands/test_score.py)."""

from __future__ import annotations

import random

import pytest

from evaluation import trec_io
from evaluation.errors import ConfigError, DataError
from evaluation.scoring import (
    SUITE_METRICS,
    mteb_retrieval_scores,
    score_run,
    trec_retrieval_scores,
)

QRELS = {"q1": {"d1": 2, "d2": 1, "d3": 0}, "q2": {"d9": 1}, "q3": {"d5": 1}}
RUN = {"q1": {"d2": 0.9, "d1": 0.5, "dx": 0.4}, "q2": {"dy": 1.0, "d9": 0.5}}  # q3 absent


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
