"""MRR@k as ``trec_eval -c -M k -m recip_rank``.

pytrec_eval computes ``recip_rank`` (1 / rank of the first document with grade >= 1, else 0)
but has no cut-off for it: there is no ``recip_rank_cut`` measure, and pytrec_eval does not
expose trec_eval's ``-M``. The one piece written by hand is therefore the cut itself
(``trec.cut_run``: top k in trec_eval's order, float32 scores, ties by docid descending); the
value still comes from pytrec_eval. MRR@100 (the metric of the Mr.TyDi paper; the mE5 model cards
report MRR@10, ``scoring.PAPER_SCORE``) is ``-M 100``.

mteb computes its ``mrr_at_k`` in Python on double-precision scores; it can differ from this
one only when two scores are equal in float32 but not in float64 (see tests/metrics/test_mrr.py).
"""

from __future__ import annotations

from evaluation.metrics.trec import TrecMeasure


def reciprocal_rank(k: int) -> TrecMeasure:
    """The measure spec: ``mrr_at_k`` = trec_eval ``recip_rank`` under ``-M k``."""
    return TrecMeasure(f"mrr_at_{k}", "recip_rank", k)

