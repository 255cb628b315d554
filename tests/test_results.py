"""Result files: a metric without a value is never stored as complete; a file that is not a result is kept aside."""

from __future__ import annotations

import json
import math

import pytest

from evaluation.results import UndefinedScoreError, check_scores_defined, result_is_complete


def _entry(**metrics):
    return {"hf_subset": "default", "languages": ["eng-Latn"], "main_score": 0.5, **metrics}


def test_metrics_mteb_leaves_undefined_by_design_are_allowed():
    # nAUC is a correlation over queries (None when a per-query metric is constant); AP is binary-only
    check_scores_defined("T", {"test": [_entry(nauc_ndcg_at_1_max=None, nauc_mrr_at_10_std=math.nan, ap=None,
                                               ap_weighted=None, scores_per_experiment=[{"ap": None}])]})


@pytest.mark.parametrize(("metrics", "shown"), [({"main_score": None}, "main_score is None"),
                                                 ({"cosine_spearman": math.nan}, "cosine_spearman is NaN"),
                                                 ({"ndcg_at_10": math.inf}, "ndcg_at_10 is inf"),
                                                 ({"apx": None}, "apx is None")])
def test_any_other_metric_without_a_value_is_refused(metrics, shown):
    with pytest.raises(UndefinedScoreError, match=f"^STS12/default \\(test\\): {shown}; not stored as a complete"):
        check_scores_defined("STS12", {"test": [_entry(**metrics)]})


def test_complete_means_every_subset_and_a_file_mteb_reads(tmp_path, caplog):
    path = tmp_path / "Tatoeba.json"
    assert not result_is_complete(path, "test", ("deu-eng",))
    path.write_text(json.dumps({"scores": {"test": [{"hf_subset": "deu-eng", "main_score": 0.9}]}}))
    assert not result_is_complete(path, "test", ("deu-eng",))  # mteb cannot read it back: kept aside
    [aside] = tmp_path.glob("Tatoeba.invalid-*.json")
    assert not path.exists() and "mteb cannot read it" in caplog.text and str(aside) in caplog.text
