"""Metric-test helpers: a measure scored the way evaluation/scoring.py scores it."""

from __future__ import annotations

import pytest

from evaluation.metrics.trec import TrecMeasure, evaluate, mean


def _measured(run, qrels, measure: TrecMeasure, complete: bool = True) -> tuple[float, dict[str, float]]:
    rows = evaluate(run, qrels, [measure], complete=complete)
    return mean(rows, [measure.name])[measure.name], {qid: row[measure.name] for qid, row in rows.items()}


@pytest.fixture
def measured():
    """``measured(run, qrels, ndcg_cut(10))`` -> (mean, {qid: value}): pytrec_eval under trec_eval's -c -M depth,
    through the same ``evaluate`` + ``mean`` as evaluation/scoring.py (``complete=False``: without -c)."""
    return _measured
