"""pytrec_eval with trec_eval's command-line semantics: ``trec_eval -c -M <depth> -m <measure>``.

pytrec_eval (pytrec-eval-terrier 0.5.11) runs trec_eval's own C measure code, so every value here
comes from it. What it does NOT give us, and what this module adds by hand:

* ``-M depth`` (keep only the top ``depth`` documents of each query). pytrec_eval does not expose
  trec_eval's ``max_num_docs_per_topic``, so ``cut_run`` keeps the top ``depth`` in trec_eval's
  order before scoring. This is also how MRR@k is computed: pytrec_eval has no rank cut-off for
  ``recip_rank`` (there is no ``recip_rank_cut``), and trec_eval's answer is ``-M k``.
* ``-c`` (average over every query in the qrels). pytrec_eval only returns queries present in
  the run; ``evaluate`` adds an all-zero row for each qrels query the run lacks.

trec_eval's order, checked against pytrec_eval (tests/metrics/test_trec.py):
* score descending, ties by docid DESCENDING (strcmp; Python str order is the same for UTF-8);
* scores are compared as C ``float`` (float32): trec_eval stores ``sim`` in a float, so 1.0 and
  1.0 + 2**-24 tie and the docid decides. ``trec_ranking`` rounds to float32 for that reason.

Other trec_eval behaviour kept as is:
* queries in the run but not in the qrels are ignored;
* a qrels query whose judgements are all 0 counts, and scores 0 on every measure;
* a qid with an empty judgement dict is not a qrels query (a qrels file cannot express it, and
  pytrec_eval drops it too), so it is neither scored nor counted;
* recall and recip_rank count a document as relevant when grade >= 1 (trec_eval ``-l 1``);
  nDCG uses the grade itself as the gain (gain 2 for grade 2, not 2**2 - 1).

Duplicate docids: a run here is a dict, so a duplicate cannot reach pytrec_eval. trec_eval
refuses a run file with one ("trec_eval.form_res_qrels: duplicate docs"), pytrec_eval's own
``parse_run`` asserts, ``evaluation.trec_io.read_run`` raises ``DataFileError``, and a search
result with a docid twice is refused by ``evaluation.search.run_from_topk``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pytrec_eval

from evaluation.errors import DataError
from evaluation.trec_io import trec_order

Run = Mapping[str, Mapping[str, float]]
Qrels = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class TrecMeasure:
    """One trec_eval measure, scored under ``-M depth``, reported under an mteb-style name."""

    name: str  # our name, e.g. "ndcg_at_10" (mteb's spelling, fractions 0-1)
    measure: str  # pytrec_eval / trec_eval measure, e.g. "ndcg_cut.10", "recip_rank"
    depth: int | None  # trec_eval -M: documents kept per query before scoring; None = all

    @property
    def result_key(self) -> str:
        """The key pytrec_eval uses in its output ("ndcg_cut.10" -> "ndcg_cut_10")."""
        return self.measure.replace(".", "_")


def trec_ranking(docs: Mapping[str, float]) -> list[str]:
    """Docids in trec_eval's order: float32 score descending, then docid descending."""
    ids = list(docs)
    scores = np.asarray([docs[d] for d in ids], dtype=np.float64)
    if np.isnan(scores).any():
        bad = ids[int(np.flatnonzero(np.isnan(scores))[0])]
        raise DataError(f"run score of document {bad!r} is NaN; trec_eval cannot rank it")
    # trec_eval keeps scores in a C float: round to float32 so that ties match it.
    f32 = scores.astype(np.float32).tolist()
    return [ids[j] for j in trec_order(f32, ids)]


def cut_run(run: Run, depth: int | None) -> dict[str, Mapping[str, float]]:
    """trec_eval ``-M depth``: keep the top ``depth`` documents of each query (trec_eval order)."""
    if depth is None:
        return dict(run)
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    out: dict[str, Mapping[str, float]] = {}
    for qid, docs in run.items():
        if len(docs) <= depth:
            out[qid] = docs  # nothing to cut; skip the sort (runs are usually already top-k)
        else:
            out[qid] = {d: docs[d] for d in trec_ranking(docs)[:depth]}
    return out


def judged_queries(qrels: Qrels) -> dict[str, Mapping[str, int]]:
    """The qrels queries trec_eval knows: those with at least one judgement (any grade)."""
    return {qid: docs for qid, docs in qrels.items() if docs}


def evaluate(
    run: Run, qrels: Qrels, measures: Sequence[TrecMeasure], complete: bool = True
) -> dict[str, dict[str, float]]:
    """Per-query values ``{qid: {measure.name: value}}``, as ``trec_eval -q [-c] -M depth``.

    With ``complete`` (``-c``) every judged qrels query has a row; one the run lacks scores 0.
    Without it, only queries in both the run and the qrels have a row (pytrec_eval's default).
    """
    judged = judged_queries(qrels)
    scored_run = {qid: docs for qid, docs in run.items() if qid in judged}
    per_query: dict[str, dict[str, float]] = {qid: {} for qid in scored_run}
    for depth, group in _by_depth(measures).items():
        evaluator = pytrec_eval.RelevanceEvaluator(judged, {m.measure for m in group})
        values = evaluator.evaluate(cut_run(scored_run, depth))
        for qid, row in values.items():
            for m in group:
                per_query[qid][m.name] = float(row[m.result_key])
    if complete:
        # -c: a qrels query without results is scored on an empty ranking, i.e. 0 everywhere.
        for qid in judged.keys() - per_query.keys():
            per_query[qid] = {m.name: 0.0 for m in measures}
    # rows were filled depth group by depth group: give them the caller's measure order
    return {qid: {m.name: row[m.name] for m in measures} for qid, row in per_query.items()}


def mean(per_query: Mapping[str, Mapping[str, float]], names: Sequence[str]) -> dict[str, float]:
    """Arithmetic mean over the rows (trec_eval's "all"); the caller decides which rows count."""
    if not per_query:
        raise DataError("no query to average over: the run and the qrels share no query id")
    n = len(per_query)
    return {name: math.fsum(row[name] for row in per_query.values()) / n for name in names}


def _by_depth(measures: Sequence[TrecMeasure]) -> dict[int | None, list[TrecMeasure]]:
    """Group measures by -M depth, so each depth needs one pytrec_eval pass."""
    names = [m.name for m in measures]
    if len(set(names)) != len(names):
        raise ValueError(f"measure names must be unique, got {names}")
    groups: dict[int | None, list[TrecMeasure]] = {}
    for m in measures:
        groups.setdefault(m.depth, []).append(m)
    return groups
