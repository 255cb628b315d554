"""Paired significance tests over per-item scores (scipy does the resampling; Holm is ours: scipy lacks it).

All tests work on d = b - a per item and a statistic that is a weighted mean of d. The weights let one test
cover a whole multi-subset task: each subset weighs 1/#subsets, so the statistic equals the difference of
the task scores (mean over subsets of the per-subset means) and not a mean pooled over unequal subsets.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

_BATCH_CELLS = 4_000_000  # resamples x items per batch: bounds memory for big query sets


def _weights(n: int, weights: np.ndarray | None) -> np.ndarray:
    w = np.full(n, 1.0 / n) if weights is None else np.asarray(weights, dtype=float)
    return w / w.sum()


def _batch(n: int) -> int:
    return max(1, _BATCH_CELLS // max(n, 1))


def permutation_test(diffs, weights=None, n_resamples: int = 10000, seed: int = 0) -> float:
    """Paired randomisation test (random sign flips of each item's difference), two-sided p-value.

    Identical inputs give p = 1; small item counts are enumerated exactly by scipy.
    """
    d = np.asarray(diffs, dtype=float)
    if d.size == 0:
        return float("nan")
    if not np.any(d):
        return 1.0  # every sign flip gives the same statistic 0
    w = _weights(d.size, weights)
    res = stats.permutation_test((d,), lambda x, axis: np.sum(x * w, axis=axis), permutation_type="samples",
                                 vectorized=True, n_resamples=n_resamples, alternative="two-sided",
                                 batch=_batch(d.size), rng=np.random.default_rng(seed))
    return float(min(1.0, res.pvalue))


def bootstrap_ci(diffs, weights=None, n_resamples: int = 10000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Paired bootstrap (items resampled with their weights): percentile interval of the weighted mean."""
    d = np.asarray(diffs, dtype=float)
    if d.size < 2 or not np.any(d - d[0]):
        m = float(d.mean()) if d.size else float("nan")
        return m, m  # no spread: the interval collapses (scipy would warn about a degenerate sample)
    w = _weights(d.size, weights)

    def stat(x, ww, axis=-1):
        return np.sum(x * ww, axis=axis) / np.sum(ww, axis=axis)

    res = stats.bootstrap((d, w), stat, paired=True, vectorized=True, n_resamples=n_resamples,
                          confidence_level=level, method="percentile", batch=_batch(d.size),
                          rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def holm(pvalues) -> list[float]:
    """Holm-Bonferroni adjusted p-values (NaN = no test, left out of the family and kept NaN)."""
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
