"""Recall@100 as trec_eval -c -M 100 -m recall.100, worked by hand.

Relevant = grade >= 1 (trec_eval -l 1); recall = relevant in the top k / relevant judged.
"""

from __future__ import annotations

from evaluation.metrics.recall import recall_cut


def ranked(docids: list[str]) -> dict[str, float]:
    """A run row where docids[0] is rank 1 (strictly decreasing scores, no ties)."""
    return {d: float(len(docids) - i) for i, d in enumerate(docids)}


def test_measure_spec_names_the_trec_measure():
    m = recall_cut(100)
    assert (m.name, m.measure, m.depth, m.result_key) == ("recall_at_100", "recall.100", 100, "recall_100")


def test_binary_relevance(measured):
    qrels = {"q1": {"r1": 1, "r2": 1, "r3": 1, "n1": 0}}
    run = {"q1": ranked(["n1", "r1", "x", "r2"])}  # r3 never retrieved
    assert measured(run, qrels, recall_cut(100)) == (2 / 3, {"q1": 2 / 3})
    assert measured(run, qrels, recall_cut(2)) == (1 / 3, {"q1": 1 / 3})


def test_every_positive_grade_counts_once(measured):
    qrels = {"q1": {"g2": 2, "g1": 1, "g0": 0}}
    assert measured({"q1": ranked(["g2", "g0"])}, qrels, recall_cut())[0] == 1 / 2
    assert measured({"q1": ranked(["g0"])}, qrels, recall_cut())[0] == 0.0


def test_run_deeper_than_the_cutoff(measured):
    docs = [f"n{i:03d}" for i in range(1, 150)]
    docs.insert(100, "r2")  # rank 101
    docs.insert(5, "r1")  # rank 6
    qrels = {"q1": {"r1": 1, "r2": 1}}
    assert measured({"q1": ranked(docs)}, qrels, recall_cut())[0] == 1 / 2
    # recall.1000 under -M 100 cannot see rank 101 either: the cut comes first
    assert measured({"q1": ranked(docs)}, qrels, recall_cut(1000))[0] == 1 / 2
    assert measured({"q1": ranked(docs)}, qrels, recall_cut(1000, depth=None))[0] == 1.0


def test_ties_at_the_cutoff_follow_docid_descending(measured):
    qrels = {"q1": {"a": 1}}
    run = {"q1": {"a": 0.5, "b": 0.5}}  # tie: "b" first, "a" second
    assert measured(run, qrels, recall_cut(1))[0] == 0.0
    assert measured(run, qrels, recall_cut(2))[0] == 1.0


def test_missing_query_and_query_without_relevant_documents_score_zero(measured):
    qrels = {"q1": {"r": 1}, "q2": {"r": 1}, "q3": {"n": 0}}
    run = {"q1": ranked(["r"]), "q3": ranked(["n"])}  # q2 has no results
    assert measured(run, qrels, recall_cut()) == (1 / 3, {"q1": 1.0, "q2": 0.0, "q3": 0.0})
