"""nDCG@k as ``trec_eval -c -M depth -m ndcg_cut.k`` (pytrec_eval computes it).

trec_eval's nDCG: gain = the qrels grade (linear, not 2**grade - 1), discount 1/log2(rank + 1),
ideal ranking = all judged grades of the query sorted descending, cut at k. A query whose
judgements are all 0 has ideal DCG 0 and scores 0.
"""

from __future__ import annotations

from evaluation.metrics.trec import TrecMeasure

DEFAULT_DEPTH = 100  # the papers' trec_eval -M 100; nDCG@10 does not depend on it


def ndcg_cut(k: int = 10, depth: int | None = DEFAULT_DEPTH) -> TrecMeasure:
    """The measure spec: ``ndcg_at_k`` = trec_eval ``ndcg_cut.k`` under ``-M depth``."""
    return TrecMeasure(f"ndcg_at_{k}", f"ndcg_cut.{k}", depth)

