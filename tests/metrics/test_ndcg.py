"""nDCG@10 as trec_eval -c -M 100 -m ndcg_cut.10, worked by hand.

trec_eval's nDCG: DCG = sum over the top k of grade / log2(rank + 1); the ideal DCG sorts all
judged grades of the query (not just the retrieved ones) descending; nDCG = DCG / ideal DCG.
"""

from __future__ import annotations

from math import log2

import pytest

from evaluation.metrics.ndcg import ndcg_cut


def test_measure_spec_names_the_trec_measure():
    m = ndcg_cut(10)
    assert (m.name, m.measure, m.depth, m.result_key) == ("ndcg_at_10", "ndcg_cut.10", 100, "ndcg_cut_10")


def test_binary_relevance(measured):
    qrels = {"q1": {"d1": 1, "d2": 1, "d3": 0}}
    # ranking: d3 (judged 0), d1 (rel), d4 (unjudged), d2 (rel)
    run = {"q1": {"d3": 0.9, "d1": 0.8, "d4": 0.7, "d2": 0.6}}
    dcg = 1 / log2(3) + 1 / log2(5)  # relevant at ranks 2 and 4
    ideal = 1 / log2(2) + 1 / log2(3)  # two relevant documents at ranks 1 and 2
    mean, per_query = measured(run, qrels, ndcg_cut(10))
    assert per_query == {"q1": pytest.approx(dcg / ideal, abs=1e-12)}
    assert mean == pytest.approx(0.6509209298071326, abs=1e-12)


def test_graded_relevance_uses_the_grade_as_linear_gain(measured):
    qrels = {"q1": {"d1": 2, "d2": 1, "d3": 0}}
    run = {"q1": {"d2": 0.9, "d1": 0.5}}  # the grade-1 document above the grade-2 one
    dcg = 1 / log2(2) + 2 / log2(3)
    ideal = 2 / log2(2) + 1 / log2(3)
    mean, _ = measured(run, qrels, ndcg_cut())
    assert mean == pytest.approx(dcg / ideal, abs=1e-12)  # 0.8597...
    exponential = (1 / log2(2) + 3 / log2(3)) / (3 / log2(2) + 1 / log2(3))  # 2**g - 1 (not trec_eval)
    assert mean != pytest.approx(exponential, abs=1e-3)


def test_tied_scores_rank_the_larger_docid_first(measured):
    qrels = {"q1": {"d_a": 1, "d_b": 0}}
    # "d_b" > "d_a": trec_eval puts d_b first, so the relevant d_a is at rank 2
    mean, _ = measured({"q1": {"d_a": 0.5, "d_b": 0.5}}, qrels, ndcg_cut())
    assert mean == pytest.approx(1 / log2(3), abs=1e-12)
    # relevant "d_b" wins the tie: perfect
    mean, _ = measured({"q1": {"d_a": 0.5, "d_b": 0.5}}, {"q1": {"d_a": 0, "d_b": 1}}, ndcg_cut())
    assert mean == 1.0


def test_scores_equal_in_float32_are_ties(measured):
    # trec_eval keeps scores in a C float: 1 + 2**-30 == 1 in float32, so the docid decides
    qrels = {"q1": {"a": 1, "b": 0}}
    mean, _ = measured({"q1": {"a": 1.0 + 2**-30, "b": 1.0}}, qrels, ndcg_cut())
    assert mean == pytest.approx(1 / log2(3), abs=1e-12)
    mean, _ = measured({"q1": {"a": 1.0 + 2**-20, "b": 1.0}}, qrels, ndcg_cut())  # distinct in float32
    assert mean == 1.0


def test_query_missing_from_the_run_counts_zero_with_c(measured):
    qrels = {"q1": {"d1": 1}, "q2": {"d9": 1}}
    run = {"q1": {"d1": 1.0}}
    assert measured(run, qrels, ndcg_cut()) == (0.5, {"q1": 1.0, "q2": 0.0})
    # without -c (pytrec_eval's default) only queries in the run count
    assert measured(run, qrels, ndcg_cut(), complete=False) == (1.0, {"q1": 1.0})


def test_query_judged_only_non_relevant_scores_zero_and_counts(measured):
    qrels = {"q1": {"d1": 1}, "q2": {"d5": 0, "d6": 0}}  # q2: ideal DCG is 0
    run = {"q1": {"d1": 1.0}, "q2": {"d5": 1.0, "d6": 0.5}}
    assert measured(run, qrels, ndcg_cut()) == (0.5, {"q1": 1.0, "q2": 0.0})


def test_run_queries_not_in_the_qrels_are_ignored(measured):
    mean, per_query = measured({"q1": {"d1": 1.0}, "zz": {"d1": 1.0}}, {"q1": {"d1": 1}}, ndcg_cut())
    assert (mean, per_query) == (1.0, {"q1": 1.0})


def test_relevant_below_the_cutoff_gains_nothing_but_counts_in_the_ideal(measured):
    qrels = {"q1": {"r1": 1, "r2": 1}}
    docs = {f"n{i:02d}": 1.0 - i / 100 for i in range(1, 20)}  # 19 non-relevant, ranks 2..20
    docs |= {"r1": 1.0, "r2": 0.895}  # r1 rank 1, r2 rank 11 (just below n10 = 0.90)
    mean, _ = measured({"q1": docs}, qrels, ndcg_cut())
    assert mean == pytest.approx(1 / (1 + 1 / log2(3)), abs=1e-12)


def test_depth_cuts_the_run_before_scoring(measured):
    # -M 5 keeps ranks 1..5 only: a relevant document at rank 7 is gone even for nDCG@10
    docs = {f"d{i}": 1.0 - i / 10 for i in range(1, 9)}
    qrels = {"q1": {"d7": 1}}
    assert measured({"q1": docs}, qrels, ndcg_cut(10, depth=5))[0] == 0.0
    assert measured({"q1": docs}, qrels, ndcg_cut(10, depth=100))[0] == pytest.approx(1 / log2(8), abs=1e-12)
