"""Recall@k as ``trec_eval -c -M depth -m recall.k`` (pytrec_eval computes it).

Relevant = grade >= 1 (trec_eval ``-l 1``), whatever the grade; recall = relevant documents in
the top k / all relevant judged documents of the query. A query without any relevant judgement
scores 0 (trec_eval does not divide by zero; it leaves the value at 0), and counts in the mean.
"""

from __future__ import annotations

from evaluation.metrics.trec import TrecMeasure

DEFAULT_DEPTH = 100  # the papers' trec_eval -M 100 (so recall.1000 would be capped by it)


def recall_cut(k: int = 100, depth: int | None = DEFAULT_DEPTH) -> TrecMeasure:
    """The measure spec: ``recall_at_k`` = trec_eval ``recall.k`` under ``-M depth``."""
    return TrecMeasure(f"recall_at_{k}", f"recall.{k}", depth)

