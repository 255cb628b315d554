"""Suite metric sets and the scoring entry points (``score_run``, ``mteb_retrieval_scores``,
``trec_retrieval_scores``); the ``me5-eval score`` command is evaluation/commands/score.py.

Which one the runner calls:
* MIRACL and Mr.TyDi -> ``trec_retrieval_scores``: the paper numbers come from trec_eval run as
  ``trec_eval -c -M 100`` (Pyserini's MIRACL/Mr.TyDi recipes), so the suite's metrics use those
  flags; the other keys come from mteb so the result file has every key a model result has.
* mteb tasks such as SciFact (suite "beir") -> ``mteb_retrieval_scores``: mteb's own functions,
  so the scores equal mteb's by construction.

The numeric difference: mteb averages over the queries present in BOTH the run and the qrels,
trec_eval -c over all (judged) qrels queries, a missing query scoring 0. With n of N qrels
queries absent from the run, trec value = mteb value * (N - n) / N; with none absent they agree
(mteb rounds nDCG/recall/MAP/P to 5 decimals; its MRR sorts float64 scores where trec_eval uses
float32, which only matters for scores tied in float32). mteb's own pipeline retrieves for every
query, so the two differ only for runs that skip queries (e.g. a BM25 run with empty results).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from evaluation.errors import ConfigError, DataError
from evaluation.metrics.mrr import reciprocal_rank
from evaluation.metrics.ndcg import ndcg_cut
from evaluation.metrics.recall import recall_cut
from evaluation.metrics.trec import Qrels, Run, TrecMeasure, evaluate, judged_queries, mean

log = logging.getLogger(__name__)

# Every suite runs under trec_eval -M 100. MIRACL: nDCG@10, R@100. Mr.TyDi: MRR@10 (the model cards' metric,
# PAPER_SCORE below), MRR@100 (Mr.TyDi's own paper's), R@100, plus nDCG@10 (mteb's main score for MrTidyRetrieval).
SUITE_METRICS: dict[str, tuple[TrecMeasure, ...]] = {
    "miracl": (ndcg_cut(10, depth=100), recall_cut(100, depth=100)),
    "mrtydi": (
        reciprocal_rank(100),
        reciprocal_rank(10),
        recall_cut(100, depth=100),
        ndcg_cut(10, depth=100),
    ),
    "beir": (ndcg_cut(10, depth=100), recall_cut(100, depth=100)),
}
# mteb's main_score of MIRACLRetrieval, MrTidyRetrieval and the BEIR tasks; the headline metric the report
# compares per suite is PAPER_SCORE (the one place that says it). Mr.TyDi: MRR@10, the metric of the model cards'
# Mr.TyDi table (the paper prints none); MRR@100 is stored too.
MAIN_SCORE = "ndcg_at_10"
PAPER_SCORE = {"miracl": "ndcg_at_10", "mrtydi": "mrr_at_10", "beir": "ndcg_at_10"}
# Which entry point gives the suite's result-file scores (see module docstring).
SUITE_SEMANTICS = {"miracl": "trec", "mrtydi": "trec", "beir": "mteb"}
MTEB_K_VALUES = (1, 3, 5, 10, 20, 100, 1000)
_AT_K = re.compile(r"_at_(\d+)")


def metric_depth(name: str) -> int:
    """How many ranked documents a metric reads: K of ``..._at_K`` (``nauc_ndcg_at_10_max`` too), else 1."""
    found = _AT_K.search(name)
    return int(found.group(1)) if found else 1


def supported_scores(scores: dict[str, Any], depth: int) -> dict[str, Any]:
    """The metrics a run ``depth`` documents deep can give: a value at K > depth (recall_at_1000 of a 100-deep run)
    would be computed on a truncated list, so it is left out instead of stored wrong."""
    return {k: v for k, v in scores.items() if metric_depth(k) <= depth}


def _check_suite(suite: str) -> tuple[TrecMeasure, ...]:
    if suite not in SUITE_METRICS:
        raise ConfigError(f"unknown suite {suite!r}; choose one of {', '.join(SUITE_METRICS)}")
    return SUITE_METRICS[suite]


def _check_overlap(run: Run, qrels: Qrels) -> None:
    """Sharing no query id is almost always the wrong qrels file (or language): say so."""
    judged = judged_queries(qrels)
    if not judged:
        raise DataError("the qrels hold no judged query")
    if not judged.keys() & run.keys():
        raise DataError(
            f"the run and the qrels share no query id (run: {len(run)} queries, e.g. "
            f"{sorted(run)[:3]}; qrels: {len(judged)}, e.g. {sorted(judged)[:3]}); wrong qrels file?"
        )


def score_run(
    run: Run, qrels: Qrels, suite: str, per_query: bool = False
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """The suite's metrics under ``trec_eval -c -M 100``: (overall, per-query or {})."""
    measures = _check_suite(suite)
    _check_overlap(run, qrels)
    rows = evaluate(run, qrels, measures, complete=True)
    missing = len(judged_queries(qrels).keys() - run.keys())
    if missing:
        log.warning(
            "%d of %d qrels queries are not in the run; they score 0 (trec_eval -c)", missing, len(rows)
        )
    overall = mean(rows, [m.name for m in measures])
    return overall, (rows if per_query else {})


def mteb_retrieval_scores(
    run: Run, qrels: Qrels, k_values: Sequence[int] = MTEB_K_VALUES, ignore_identical_ids: bool = False
) -> dict[str, Any]:
    """mteb's full retrieval score dict, from mteb's own functions (``RetrievalEvaluator.evaluate``).

    Mirrors what mteb does around them: queries without judgements are dropped from the qrels
    (``_filter_queries_without_positives``) and only qrels queries are searched, so run queries
    outside the qrels are dropped here (mteb's ``mrr`` would raise KeyError on them).
    """
    from mteb._evaluators.retrieval_metrics import calculate_retrieval_scores, make_score_dict

    _check_overlap(run, qrels)
    judged = judged_queries(qrels)
    results = {qid: dict(docs) for qid, docs in run.items() if qid in judged}
    if ignore_identical_ids:  # as RetrievalEvaluator.evaluate (ArguAna, Quora, ...)
        results = {qid: {d: s for d, s in docs.items() if d != qid} for qid, docs in results.items()}
    r = calculate_retrieval_scores(results, judged, list(k_values))
    return make_score_dict(
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


def trec_retrieval_scores(
    run: Run, qrels: Qrels, suite: str, k_values: Sequence[int] = MTEB_K_VALUES
) -> dict[str, Any]:
    """mteb's score dict with the suite's metrics replaced by their trec_eval -c -M 100 values."""
    scores = mteb_retrieval_scores(run, qrels, k_values)
    overall, _ = score_run(run, qrels, suite)
    scores.update(overall)
    return scores
