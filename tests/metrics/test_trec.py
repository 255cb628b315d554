"""The pytrec_eval wrapper: what pytrec_eval does on its own, and what -c / -M add."""

from __future__ import annotations

import math

import pytest
import pytrec_eval

from evaluation import trec_io
from evaluation.errors import DataError, DataFileError
from evaluation.metrics.mrr import reciprocal_rank
from evaluation.metrics.ndcg import ndcg_cut
from evaluation.metrics.recall import recall_cut
from evaluation.metrics.trec import cut_run, evaluate, mean, trec_ranking

MEASURES = [reciprocal_rank(100), reciprocal_rank(10), recall_cut(100), ndcg_cut(10)]


# --- pytrec_eval's own behaviour (the reasons for the wrapper) ---------------------------------


def test_pytrec_eval_returns_only_queries_in_the_run():
    qrels = {"q1": {"d": 1}, "q2": {"d": 1}}
    out = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate({"q1": {"d": 1.0}, "zz": {"d": 1.0}})
    assert out == {"q1": {"recip_rank": 1.0}}  # q2 missing (no -c), zz ignored


def test_pytrec_eval_scores_an_empty_ranking_zero():
    out = pytrec_eval.RelevanceEvaluator({"q1": {"d": 1}}, {"recip_rank"}).evaluate({"q1": {}})
    assert out == {"q1": {"recip_rank": 0.0}}


def test_pytrec_eval_drops_empty_judgement_sets_and_keeps_all_zero_ones():
    qrels = {"empty": {}, "zeros": {"d": 0}}
    out = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(
        {"empty": {"d": 1.0}, "zeros": {"d": 1.0}}
    )
    assert out == {"zeros": {"recip_rank": 0.0}}


def test_pytrec_eval_ranks_float32_scores_with_docid_descending_ties():
    ev = pytrec_eval.RelevanceEvaluator({"q1": {"a": 1, "b": 0}}, {"recip_rank"})
    assert ev.evaluate({"q1": {"a": 1.0 + 2**-30, "b": 1.0}})["q1"]["recip_rank"] == 0.5
    assert ev.evaluate({"q1": {"a": 1.0 + 2**-20, "b": 1.0}})["q1"]["recip_rank"] == 1.0


def test_duplicate_docids_are_refused_by_parse_run_and_by_read_run(tmp_path):
    lines = ["q1 Q0 d1 1 2.0 t", "q1 Q0 d1 2 1.0 t"]
    with pytest.raises(AssertionError):  # pytrec_eval's parser (trec_eval: "duplicate docs")
        pytrec_eval.parse_run(lines)
    path = tmp_path / "dup.run"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileError, match=r"dup\.run:2: duplicate document"):
        trec_io.read_run(path)


# --- our additions ----------------------------------------------------------------------------


def test_trec_ranking_order():
    docs = {"a": 0.5, "c": 0.5, "b": 0.9, "z": 0.1, "y": 1.0 + 2**-30, "x": 1.0}
    assert trec_ranking(docs) == ["y", "x", "b", "c", "a", "z"]


def test_nan_score_is_a_data_error():
    with pytest.raises(DataError, match="NaN"):
        trec_ranking({"a": math.nan, "b": 1.0})


def test_cut_run_keeps_the_top_depth_in_trec_order():
    run = {"q1": {"a": 0.5, "c": 0.5, "b": 0.9}, "q2": {"a": 1.0}}
    assert cut_run(run, 2) == {"q1": {"b": 0.9, "c": 0.5}, "q2": {"a": 1.0}}
    assert cut_run(run, None) == run
    with pytest.raises(ValueError):
        cut_run(run, 0)


def test_evaluate_rows_follow_measure_order_and_c_adds_zero_rows():
    qrels = {"q1": {"d": 1}, "q2": {"d": 1}, "q3": {}}
    rows = evaluate({"q1": {"d": 1.0}}, qrels, MEASURES)
    assert rows == {
        "q1": {"mrr_at_100": 1.0, "mrr_at_10": 1.0, "recall_at_100": 1.0, "ndcg_at_10": 1.0},
        "q2": {"mrr_at_100": 0.0, "mrr_at_10": 0.0, "recall_at_100": 0.0, "ndcg_at_10": 0.0},
    }  # q3 has no judgement at all: not a qrels query
    assert list(rows["q1"]) == [m.name for m in MEASURES]
    assert mean(rows, ["mrr_at_10"]) == {"mrr_at_10": 0.5}


def test_mean_over_nothing_is_an_error():
    with pytest.raises(DataError, match="share no query id"):
        mean({}, ["ndcg_at_10"])


def test_duplicate_measure_names_are_refused():
    with pytest.raises(ValueError, match="unique"):
        evaluate({"q1": {"d": 1.0}}, {"q1": {"d": 1}}, [ndcg_cut(10), ndcg_cut(10, depth=None)])
