"""Paired tests: a known difference is found, identical inputs give p = 1; Holm; compare() end to end."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.errors import ConfigError
from evaluation.report.cli import compare_command
from evaluation.report.compare import compare
from evaluation.report.settings import CompareSettings
from evaluation.report.significance import bootstrap_ci, holm, permutation_test, win_tie_loss

FAST = CompareSettings(n_resamples=2000, seed=0, top_items=5)


def test_known_difference_is_found():
    rng = np.random.default_rng(7)
    a = rng.uniform(0, 1, 200)
    b = a + 0.05 + rng.normal(0, 0.1, 200)  # true mean difference 0.05, noise 0.1
    assert permutation_test(b - a, n_resamples=5000) < 0.01
    lo, hi = bootstrap_ci(b - a, n_resamples=5000)
    assert 0 < lo < 0.05 < hi


def test_identical_inputs_give_p_one():
    a = np.random.default_rng(3).uniform(0, 1, 100)
    assert permutation_test(a - a) == 1.0
    assert bootstrap_ci(a - a) == (0.0, 0.0)
    assert win_tie_loss(a, a) == (0, 100, 0)


def test_no_difference_is_not_significant_and_seed_is_fixed():
    rng = np.random.default_rng(11)
    d = rng.normal(0, 0.1, 150)
    p1, p2 = permutation_test(d, n_resamples=3000, seed=1), permutation_test(d, n_resamples=3000, seed=1)
    assert p1 == p2 and p1 > 0.05


def test_holm_step_down():
    assert holm([0.01, 0.04, 0.03, float("nan"), 0.005]) == pytest.approx(
        [0.03, 0.06, 0.06, float("nan"), 0.02], nan_ok=True)
    assert holm([]) == []


def test_compare_finds_the_better_checkpoint(synthetic_results):
    res = compare(synthetic_results, "intfloat/multilingual-e5-small", "my-org/e5-small-ft", FAST)
    t = res.tasks.set_index("task")
    miracl = t.loc["MIRACLRetrieval"]
    assert miracl["verdict"] == "B better" and miracl["p_holm"] < 0.01
    assert 8.0 < miracl["delta"] <= 10.0  # +0.10 per query, a few clipped at 1.0
    assert miracl["wins"] == 100 and miracl["n_items"] == 100
    sub = res.subsets.set_index("subset").loc[["ar", "bn"]]
    assert (sub["p"] < 0.01).all() and (sub["p_holm"] >= sub["p"]).all()
    # no per-item files: the delta only, and it says why
    sts = t.loc["STS12"]
    assert sts["delta"] == pytest.approx(1.0) and sts["verdict"] == "not testable"
    assert "not possible" in sts["test"]
    assert len(res.top_items) == 5 and set(res.top_items["task"]) == {"MIRACLRetrieval"}


def test_compare_identical_per_item_scores(synthetic_results):
    res = compare(synthetic_results, "intfloat/multilingual-e5-small", "my-org/e5-small-same", FAST)
    m = res.tasks.set_index("task").loc["MIRACLRetrieval"]
    assert m["p"] == 1.0 and m["verdict"] == "no significant difference" and m["ties"] == 100


def test_compare_unknown_model_and_command(synthetic_results, tmp_path):
    with pytest.raises(ConfigError, match="models there"):
        compare(synthetic_results, "intfloat/multilingual-e5-small", "nope/model", FAST)
    assert compare_command(["x", "y", "--results", str(synthetic_results), "--out", str(tmp_path)]) == 2
    rc = compare_command(["intfloat/multilingual-e5-small", "my-org/e5-small-ft", "--results",
                          str(synthetic_results), "--out", str(tmp_path)])
    out = tmp_path / "compare__intfloat__multilingual-e5-small__vs__my-org__e5-small-ft"
    assert rc == 0 and "B better" in (out / "compare_tasks.csv").read_text()
    assert "significantly better on 1" in (out / "compare.md").read_text()
    assert "<script>" in (out / "compare.html").read_text()
