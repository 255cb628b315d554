"""Retrieval metrics with trec_eval's flags, on pytrec_eval.

One measure family per module: ``ndcg``, ``recall``, ``mrr`` (each a ``TrecMeasure`` spec); ``trec`` holds the
shared pytrec_eval wrapper (-c, -M, trec_eval's ranking order). Suites live in ``evaluation.scoring``. Bitext,
STS, classification and clustering scores come from mteb's own evaluators.
"""

from evaluation.metrics.mrr import reciprocal_rank
from evaluation.metrics.ndcg import ndcg_cut
from evaluation.metrics.recall import recall_cut
from evaluation.metrics.trec import TrecMeasure, cut_run, evaluate, mean, trec_ranking

__all__ = [
    "TrecMeasure",
    "cut_run",
    "evaluate",
    "mean",
    "ndcg_cut",
    "recall_cut",
    "reciprocal_rank",
    "trec_ranking",
]
