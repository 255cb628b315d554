"""Paired tests on the reported metric, as worked examples: mteb's weighted F1 and Spearman recomputed from
per-item outputs (checked against sklearn / scipy), exact permutation p-values counted by hand, Holm."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import f1_score

from evaluation.report.significance import (
    Groups,
    bootstrap_ci,
    holm,
    permutation_p,
    spearman,
    weighted_f1,
    win_tie_loss,
)


def test_weighted_f1_worked_example():
    # gold 0 1 2 3, predicted 0 1 1 3: per label F1 = 2TP / (#pred + #gold): 1, 2/3, 0, 1; weights 1/4 each
    assert weighted_f1(np.array([0, 1, 1, 3]), np.array([0, 1, 2, 3])) == pytest.approx((1 + 2 / 3 + 0 + 1) / 4)
    # a label predicted that no item has (9) weighs 0, as in sklearn's average="weighted"
    assert weighted_f1(np.array([0, 1, 2, 9]), np.array([0, 1, 2, 3])) == pytest.approx(0.75)


def test_weighted_f1_equals_sklearn_row_by_row():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 30, 50)
    preds = rng.integers(0, 35, (6, 50))  # 6 resamples at once
    expected = [f1_score(gold, p, average="weighted", zero_division=0) for p in preds]
    assert weighted_f1(preds, gold) == pytest.approx(expected)


def test_spearman_equals_scipy_with_ties():
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 5, 40).astype(float)  # many ties, like STS gold scores
    x = rng.normal(size=(3, 40)).round(1)
    assert spearman(x, gold) == pytest.approx([spearmanr(r, gold).statistic for r in x])


def test_exact_permutation_p_counted_by_hand():
    # every item +0.1 for B: of the 2^n swap patterns only "none" and "all" reach |delta| = 10 points
    for n, expected in ((3, 2 / 8), (8, 2 / 256)):
        g = Groups(["mean"], np.zeros(n), np.full(n, 0.1), None, [0, n])
        assert g.score(g.b) - g.score(g.a) == pytest.approx(10.0)
        assert permutation_p(g, n_resamples=10_000) == pytest.approx(expected)


def test_permutation_on_f1_is_enumerated_like_by_hand():
    gold = np.array([0, 1, 2, 3])
    a, b = np.array([1, 0, 2, 3]), np.array([0, 1, 2, 3])  # F1 0.5 vs 1.0
    g = Groups(["weighted_f1"], a.astype(float), b.astype(float), gold.astype(float), [0, 4])

    def delta(swap):
        x = np.where(swap, b, a)
        y = np.where(swap, a, b)
        return f1_score(gold, y, average="weighted", zero_division=0) - f1_score(gold, x, average="weighted",
                                                                                zero_division=0)

    deltas = [delta(np.array(s, bool)) for s in itertools.product([0, 1], repeat=4)]
    by_hand = np.mean(np.abs(deltas) >= 0.5 - 1e-12)
    assert g.score(g.b) - g.score(g.a) == pytest.approx(50.0)
    assert permutation_p(g, n_resamples=10_000) == pytest.approx(by_hand)


def test_identical_outputs_give_p_one_and_a_zero_interval():
    a = np.random.default_rng(3).uniform(0, 1, 100)
    g = Groups(["mean"], a, a.copy(), None, [0, 100])
    assert permutation_p(g) == 1.0
    assert bootstrap_ci(g, n_resamples=500) == (0.0, 0.0)
    assert win_tie_loss(a, a) == (0, 100, 0)


def test_known_difference_is_found_and_its_interval_covers_it():
    rng = np.random.default_rng(7)
    a = rng.uniform(0, 1, 200)
    b = a + 0.05 + rng.normal(0, 0.1, 200)  # true mean difference 5 points, noise 10
    g = Groups(["mean"], a, b, None, [0, 200])
    assert permutation_p(g, n_resamples=5000) < 0.01
    lo, hi = bootstrap_ci(g, n_resamples=5000)
    observed = float(g.score(b) - g.score(a))
    assert lo < observed < hi and lo > 0 and hi - lo < 4  # about +-1.96 * 10 / sqrt(200) = +-1.4 points


def test_subsets_weigh_equally_or_as_told():
    # subset 1: two items at 1.0; subset 2: four items at 0.0 -> task score 50, not the pooled 33.3
    x = np.array([1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    assert Groups(["mean", "mean"], x, x, None, [0, 2, 6]).score(x) == pytest.approx(50.0)
    assert Groups(["mean", "mean"], x, x, None, [0, 2, 6], [3.0, 1.0]).score(x) == pytest.approx(75.0)


def test_stratified_bootstrap_keeps_items_in_their_subset():
    # B is better by 1.0 on subset 1 (two items) and equal on subset 2: every resample has delta 50 exactly
    a = np.array([0.0, 0.0, 0.5, 0.5, 0.5])
    b = np.array([1.0, 1.0, 0.5, 0.5, 0.5])
    lo, hi = bootstrap_ci(Groups(["mean", "mean"], a, b, None, [0, 2, 5]), n_resamples=300)
    assert (lo, hi) == pytest.approx((50.0, 50.0))


def test_holm_step_down():
    assert holm([0.01, 0.04, 0.03, float("nan"), 0.005]) == pytest.approx(
        [0.03, 0.06, 0.06, float("nan"), 0.02], nan_ok=True)
    assert holm([]) == []
