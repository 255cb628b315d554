"""evaluation/results.py: results in mteb's layout, written atomically, read back by mteb's own loader; a metric
without a value is never stored as complete; a file that is not a result is kept aside."""

from __future__ import annotations

import json
import math

import pytest
from result_files import write_result_json

from evaluation.config import ModelConfig
from evaluation.results import (
    UndefinedScoreError,
    check_scores_defined,
    details_dir,
    model_dir_name,
    provenance,
    result_is_complete,
    task_result_path,
    write_model_meta,
    write_per_item,
    write_task_result,
)
from evaluation.suites import fresh_task

MODEL = ModelConfig(name="intfloat/multilingual-e5-small", revision="abc123", dim=384)


def test_paths_follow_mtebs_results_layout(tmp_path):
    assert model_dir_name("intfloat/multilingual-e5-small") == "intfloat__multilingual-e5-small"
    assert task_result_path(tmp_path, MODEL, "SciFact") == (
        tmp_path / "intfloat__multilingual-e5-small" / "abc123" / "SciFact.json")
    no_rev = ModelConfig(name="my model")
    assert task_result_path(tmp_path, no_rev, "X") == tmp_path / "my_model" / "no_revision_available" / "X.json"
    assert details_dir(tmp_path, MODEL, "MIRACLRetrieval", "dev") == (
        tmp_path / "intfloat__multilingual-e5-small" / "abc123" / "details" / "MIRACLRetrieval" / "dev")


def _write(path, subsets, split="dev"):
    write_result_json(path, subsets, split)


def test_a_result_is_complete_when_every_requested_subset_is_scored(tmp_path):
    path = tmp_path / "MIRACLRetrieval.json"
    assert not result_is_complete(path, "dev", ("sw",))  # no file yet
    _write(path, ["sw", "yo"])
    assert result_is_complete(path, "dev", ("sw",)) and result_is_complete(path, "dev", ("sw", "yo"))
    assert not result_is_complete(path, "dev", ("sw", "te")) and not result_is_complete(path, "test", ("sw",))


def test_a_truncated_result_counts_as_incomplete_with_a_warning(tmp_path, caplog):
    path = tmp_path / "SciFact.json"
    path.write_text('{"scores": {"te')
    with caplog.at_level("WARNING"):
        assert not result_is_complete(path, "test", ("default",))
    assert "is unreadable" in caplog.text


def test_a_task_result_is_mtebs_json_rounded_to_6_decimals_with_our_provenance(tmp_path):
    from mteb import TaskResult  # mteb's own result class (heavy import)

    scores = {"test": {"default": {"ndcg_at_10": 0.123456789, "main_score": 0.123456789}}}
    result = TaskResult.from_task_results(fresh_task("SciFact"), scores, evaluation_time=1.0)
    prov = provenance(MODEL, protocol="paper", dtype="float32", device="cpu", fingerprint="fp",
                      data_source={"SciFact": "local:/d"}, extra={"shards": 2})
    path = write_task_result(tmp_path / "SciFact.json", result, prov)
    obj = json.loads(path.read_text())
    [entry] = obj["scores"]["test"]
    assert entry["ndcg_at_10"] == 0.123457 and entry["hf_subset"] == "default"
    assert obj["me5_eval"]["model"] == MODEL.name and obj["me5_eval"]["shards"] == 2
    assert TaskResult.from_disk(path).get_score() == pytest.approx(0.123457, abs=1e-9)  # mteb reads it back


def test_per_item_rows_are_one_json_object_per_line(tmp_path):
    write_per_item(tmp_path / "default.per_item.jsonl", {"q1": {"ndcg_at_10": 1.0}, "q2": {"ndcg_at_10": 0.0}})
    assert (tmp_path / "default.per_item.jsonl").read_text() == (
        '{"id": "q1", "ndcg_at_10": 1.0}\n{"id": "q2", "ndcg_at_10": 0.0}\n')


def test_model_meta_names_the_model_its_revision_and_dim(tmp_path):
    write_model_meta(tmp_path, MODEL, 384)
    meta = json.loads((tmp_path / "model_meta.json").read_text())
    assert (meta["name"], meta["revision"], meta["embed_dim"], meta["max_tokens"]) == (MODEL.name, "abc123", 384, 512)


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


IDENTITY = {"model_fingerprint": "sha256:aa|pool=mean", "top_k": 100, "data": {"sw": {"files": {"qrels": "1"}}}}


def test_a_result_of_other_inputs_is_not_complete_and_stays_until_replaced(tmp_path, caplog):
    path = tmp_path / "rev" / "MIRACLRetrieval.json"
    write_result_json(path, ["sw"], "dev", identity=IDENTITY)
    assert result_is_complete(path, "dev", ("sw",), IDENTITY)
    other = {**IDENTITY, "data": {"sw": {"files": {"qrels": "2"}}}}
    before = path.read_bytes()
    with caplog.at_level("WARNING"):
        assert not result_is_complete(path, "dev", ("sw",), other)
    assert "computed from other inputs (data.sw.qrels)" in caplog.text
    assert path.read_bytes() == before  # a failed recompute must find it in place
    write_result_json(path, ["sw"], "dev")  # written before identities were: its inputs are unknown
    assert not result_is_complete(path, "dev", ("sw",), IDENTITY)
    assert result_is_complete(path, "dev", ("sw",))  # without an identity to compare: completeness only


def test_a_replaced_result_is_kept_under_superseded(tmp_path):
    path = tmp_path / "rev" / "SciFact.json"
    from mteb import TaskResult  # mteb's own result class (heavy import)

    old = write_result_json(path, ["default"]).read_bytes()
    result = TaskResult.from_task_results(fresh_task("SciFact"), {"test": {"default": {
        "ndcg_at_10": 0.7, "main_score": 0.7}}}, evaluation_time=1.0)
    write_task_result(path, result, {"identity": IDENTITY})
    [kept] = (tmp_path / "rev" / "superseded").glob("*/SciFact.json")
    assert kept.read_bytes() == old
    assert json.loads(path.read_text())["me5_eval"]["identity"] == IDENTITY
