"""MRR@k as trec_eval -c -M k -m recip_rank, worked by hand.

recip_rank = 1 / rank of the first document with grade >= 1 (0 if none); MRR@k cuts the run to
its top k first (trec_eval -M k), so a first hit below rank k scores 0.
"""

from __future__ import annotations

from mteb._evaluators.retrieval_metrics import mrr as mteb_mrr

from evaluation.metrics.mrr import reciprocal_rank


def ranked(docids: list[str]) -> dict[str, float]:
    return {d: float(len(docids) - i) for i, d in enumerate(docids)}


def test_measure_spec_is_recip_rank_under_minus_M_k():
    m = reciprocal_rank(10)
    assert (m.name, m.measure, m.depth) == ("mrr_at_10", "recip_rank", 10)


def test_first_relevant_document_decides(measured):
    qrels = {"q1": {"r1": 1, "r2": 1, "n": 0}}
    assert measured({"q1": ranked(["n", "x", "r2", "r1"])}, qrels, reciprocal_rank(10))[0] == 1 / 3


def test_first_hit_below_the_cutoff(measured):
    docs = [f"n{i:02d}" for i in range(10)] + ["r"]  # r at rank 11
    qrels = {"q1": {"r": 1}}
    assert measured({"q1": ranked(docs)}, qrels, reciprocal_rank(10))[0] == 0.0
    assert measured({"q1": ranked(docs)}, qrels, reciprocal_rank(100))[0] == 1 / 11


def test_graded_relevance_any_positive_grade_is_a_hit(measured):
    qrels = {"q1": {"g2": 2, "g1": 1, "g0": 0}}
    assert measured({"q1": ranked(["g0", "g1", "g2"])}, qrels, reciprocal_rank(10))[0] == 1 / 2


def test_ties_rank_the_larger_docid_first(measured):
    qrels = {"q1": {"a": 1}}
    assert measured({"q1": {"a": 0.5, "b": 0.5}}, qrels, reciprocal_rank(10))[0] == 1 / 2  # "b" > "a"
    assert measured({"q1": {"a": 0.5, "b": 0.5}}, qrels, reciprocal_rank(1))[0] == 0.0  # the cut keeps "b"


def test_float32_ties_differ_from_mteb_float64_mrr(measured):
    # a is higher in float64 but not in float32: trec_eval/pytrec_eval rank "b" first, mteb "a"
    qrels = {"q1": {"a": 1, "b": 0}}
    run = {"q1": {"a": 1.0 + 2**-30, "b": 1.0}}
    assert measured(run, qrels, reciprocal_rank(10))[0] == 1 / 2
    assert mteb_mrr(qrels, run, [10])["MRR@10"] == [1.0]


def test_missing_query_and_query_without_relevant_documents_score_zero(measured):
    qrels = {"q1": {"r": 1}, "q2": {"r": 1}, "q3": {"n": 0}}
    run = {"q1": ranked(["x", "r"]), "q3": ranked(["n"])}
    assert measured(run, qrels, reciprocal_rank(10)) == (1 / 6, {"q1": 1 / 2, "q2": 0.0, "q3": 0.0})
