"""Retrieval metrics with trec_eval's flags (on pytrec_eval) and bitext mining scores.

One family per module: ``ndcg``, ``recall``, ``mrr``, ``bitext``; ``trec`` holds the shared
pytrec_eval wrapper (-c, -M, trec_eval's ranking order). Suites live in ``evaluation.scoring``.
"""

from evaluation.metrics.mrr import mrr_at_k, reciprocal_rank
from evaluation.metrics.ndcg import ndcg_at_k, ndcg_cut
from evaluation.metrics.recall import recall_at_k, recall_cut
from evaluation.metrics.trec import TrecMeasure, cut_run, dedupe_run, evaluate, mean, trec_ranking

__all__ = [
    "TrecMeasure",
    "cut_run",
    "dedupe_run",
    "evaluate",
    "mean",
    "mrr_at_k",
    "ndcg_at_k",
    "ndcg_cut",
    "recall_at_k",
    "recall_cut",
    "reciprocal_rank",
    "trec_ranking",
]
