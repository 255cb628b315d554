"""Paired tests on the metric a task reports, recomputed from per-item outputs.

A task's score is a statistic of its items: a mean (nDCG@10 per query, accuracy per item) or a corpus-level
statistic (bitext F1 over the predicted alignments, STS Spearman over the similarities). The tests never average
per-item terms of a corpus-level metric; they recompute the statistic on re-arranged items:

- paired permutation test (approximate randomisation, Noreen 1989; Yeh 2000 for F-scores): each item's outputs
  of A and B are swapped at random, the task statistic is recomputed, two-sided p-value (scipy's
  `permutation_test`, exact when 2^n <= n_resamples);
- stratified paired bootstrap: items resampled within each subset, percentile interval of the statistic's delta
  (by hand: scipy's `bootstrap` cannot resample within strata).

A task with several subsets scores the mean over its subsets; `Groups` keeps each subset's slice so every
statistic is computed per subset and then averaged, exactly as the task score is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

_BATCH_CELLS = 2_000_000  # resamples x items per batch: bounds memory (F1 holds a few batch x labels arrays)


def mean_stat(x: np.ndarray, gold: np.ndarray | None) -> np.ndarray:
    return x.mean(axis=-1)


def weighted_f1(pred: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """sklearn's f1_score(gold, pred, average="weighted", zero_division=0) along the last axis (what mteb's
    BitextMining reports), vectorised over leading axes: per label F1 = 2 TP / (#predicted + #gold), weighted by
    the label's gold count."""
    lead, n = np.shape(pred)[:-1], np.shape(pred)[-1]
    pred = np.atleast_2d(pred).astype(np.int64)
    gold = np.broadcast_to(np.asarray(gold), pred.shape).astype(np.int64)
    pred, gold = pred.reshape(-1, n), gold.reshape(-1, n)
    labels = np.unique(np.concatenate([pred.ravel(), gold.ravel()]))
    width = len(labels)
    offset = np.arange(len(pred))[:, None] * width
    p, g = np.searchsorted(labels, pred) + offset, np.searchsorted(labels, gold) + offset
    size = len(pred) * width
    gold_n = np.bincount(g.ravel(), minlength=size).reshape(-1, width)
    pred_n = np.bincount(p.ravel(), minlength=size).reshape(-1, width)
    tp = np.bincount(g.ravel(), weights=(p == g).ravel(), minlength=size).reshape(-1, width)
    denom = gold_n + pred_n
    f1 = np.divide(2 * tp, denom, out=np.zeros(tp.shape), where=denom > 0)
    return ((f1 * gold_n).sum(axis=-1) / n).reshape(lead)


def spearman(x: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Spearman's rho of x with gold along the last axis (average ranks for ties, as scipy.stats.spearmanr)."""
    rx = stats.rankdata(x, axis=-1)
    rg = stats.rankdata(np.broadcast_to(gold, rx.shape), axis=-1)
    cx, cg = rx - rx.mean(axis=-1, keepdims=True), rg - rg.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (cx * cg).sum(axis=-1) / np.sqrt((cx**2).sum(axis=-1) * (cg**2).sum(axis=-1))


STATISTICS: dict[str, Callable[[np.ndarray, np.ndarray | None], np.ndarray]] = {
    "mean": mean_stat, "weighted_f1": weighted_f1, "spearman": spearman}


@dataclass
class Groups:
    """Paired items of one or more subsets, concatenated: subset k is items starts[k]:starts[k + 1], scored with
    statistics[k]; `a`, `b` are the per-item outputs (metric value, prediction or similarity) and `gold` what the
    statistics need besides (ignored by "mean")."""

    statistics: list[str]
    a: np.ndarray
    b: np.ndarray
    gold: np.ndarray | None
    starts: list[int]
    weights: list[float] | None = None  # per subset; None = equal (a task score); see series.py for tasks x subsets

    def score(self, x: np.ndarray, gold: np.ndarray | None = None) -> np.ndarray:
        """Weighted mean over subsets of the subset statistic, in points; x has the items on its last axis."""
        gold = self.gold if gold is None else gold
        parts = [STATISTICS[stat](x[..., s:e], None if gold is None else gold[..., s:e])
                 for stat, s, e in zip(self.statistics, self.starts[:-1], self.starts[1:], strict=True)]
        return 100.0 * np.average(parts, axis=0, weights=self.weights)

    @property
    def n(self) -> int:
        return len(self.a)


def _batch(n: int) -> int:
    return max(1, _BATCH_CELLS // max(n, 1))


def permutation_p(g: Groups, n_resamples: int = 10000, seed: int = 0) -> float:
    """Two-sided p-value of score(B) - score(A) under random swaps of A's and B's output per item."""
    if g.n == 0:
        return float("nan")
    if np.array_equal(g.a, g.b):
        return 1.0  # every swap gives the same statistic 0

    def delta(x, y, axis=-1):
        return g.score(y) - g.score(x)

    res = stats.permutation_test((g.a, g.b), delta, permutation_type="samples", vectorized=True,
                                 n_resamples=n_resamples, alternative="two-sided", batch=_batch(g.n),
                                 rng=np.random.default_rng(seed))
    return float(min(1.0, res.pvalue))


def bootstrap_ci(g: Groups, n_resamples: int = 10000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of score(B) - score(A) with items resampled within their subset."""
    if g.n == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    deltas, done = [], 0
    while done < n_resamples:
        size = min(_batch(g.n), n_resamples - done)
        idx = np.concatenate([rng.integers(s, e, (size, e - s)) for s, e in zip(g.starts[:-1], g.starts[1:],
                                                                                 strict=True)], axis=1)
        gold = None if g.gold is None else g.gold[idx]
        deltas.append(g.score(g.b[idx], gold) - g.score(g.a[idx], gold))
        done += size
    d = np.concatenate(deltas)
    tail = 100 * (1 - level) / 2
    return float(np.nanpercentile(d, tail)), float(np.nanpercentile(d, 100 - tail))


def holm(pvalues) -> list[float]:
    """Holm-Bonferroni adjusted p-values (NaN = no test, left out of the family and kept NaN). By hand: scipy
    has no multiple-testing correction (statsmodels does, but is not a dependency)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    m = idx.size
    running = 0.0
    for rank, i in enumerate(idx[np.argsort(p[idx], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[i]))  # step-down, kept monotone
        out[i] = running
    return out.tolist()


def win_tie_loss(a, b, eps: float = 1e-9) -> tuple[int, int, int]:
    """Items where B beats A, ties (|b - a| <= eps), and where B loses."""
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    return int((d > eps).sum()), int((np.abs(d) <= eps).sum()), int((d < -eps).sum())
