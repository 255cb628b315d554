"""evaluation/sweep/driver.py: what a sweep has to run, and how a failed or mismatched sweep is reported.

Fast: the sweeps here are outcomes written by hand (tests/test_fault_tolerance.py and tests/cluster/ run real ones).
"""

from __future__ import annotations

import shutil

import pytest
from result_files import write_result_json

from evaluation.compose import compose_run_config
from evaluation.encode import shard_embedder
from evaluation.errors import ConfigError, DataError
from evaluation.identity import result_identity
from evaluation.models.loading import predicted_fingerprint
from evaluation.suites import resolve_suite
from evaluation.sweep.driver import (
    SweepError,
    SweepOutcome,
    check_sweep,
    encode_shards_with_launcher,
    pending_specs,
    preflight,
    unfinished_shards,
)


def _cfg(*overrides):
    return compose_run_config(["model=minilm", *overrides])


def _receipt(shard: int, fingerprint: str | None = None, status: str = "ok") -> dict:
    return {"status": status, "shard": shard, "items": [], "fingerprint": fingerprint}


def _scifact(corpus, tmp_path, *overrides):
    return _cfg("suite=mteb-en", "tasks=[SciFact]", "data.root=null", f"data.paths.SciFact={corpus}",
                f"cache.dir={tmp_path / 'cache'}", f"output.dir={tmp_path / 'out'}", "block_rows=16", *overrides)


# ------------------------------------------------------------------------------------------------ what to sweep


def test_a_run_without_retrieval_tasks_starts_no_sweep(tmp_path):
    cfg = _cfg("shards=4", "launcher=joblib", f"cache.dir={tmp_path}")
    specs = resolve_suite(cfg.suite, ["STSBenchmark"], None)
    assert encode_shards_with_launcher(cfg, specs) is None
    assert not (tmp_path / "sweeps").exists()


def test_a_task_with_a_complete_result_is_not_pending(tmp_path, mini_scifact):
    cfg = _scifact(mini_scifact, tmp_path)
    [spec] = resolve_suite(cfg.suite, cfg.tasks, cfg.langs)
    assert pending_specs(cfg, [spec]) == [spec]
    result = tmp_path / "out" / "sentence-transformers__all-MiniLM-L6-v2" / cfg.model.revision / "SciFact.json"
    write_result_json(result, ["default"])  # no identity recorded: its inputs are unknown, so it is redone
    assert pending_specs(cfg, [spec]) == [spec]
    encoder = shard_embedder(cfg).encoder
    write_result_json(result, ["default"], identity=result_identity(cfg, spec, encoder.predicted, str(encoder.dtype)))
    assert pending_specs(cfg, [spec]) == []
    assert pending_specs(_scifact(mini_scifact, tmp_path, "output.overwrite=true"), [spec]) == [spec]


def test_every_shard_of_a_fresh_cache_is_unfinished(tmp_path, mini_scifact):
    cfg = _scifact(mini_scifact, tmp_path, "shards=4")
    assert unfinished_shards(cfg, resolve_suite(cfg.suite, cfg.tasks, cfg.langs)) == [0, 1, 2, 3]


def test_preflight_stops_on_an_empty_corpus_before_any_sweep(tmp_path, mini_scifact):
    empty = tmp_path / "scifact"
    shutil.copytree(mini_scifact, empty)
    (empty / "corpus.jsonl").write_text("\n")
    cfg = _scifact(empty, tmp_path, "shards=2")
    with pytest.raises(DataError, match=r"SciFact/default \(.*corpus.jsonl\): the corpus is empty"):
        preflight(cfg, resolve_suite(cfg.suite, cfg.tasks, cfg.langs))


def test_a_launcher_without_a_hydra_launcher_is_a_config_error():
    with pytest.raises(ConfigError, match="launcher=local has no hydra_launcher"):
        encode_shards_with_launcher(_cfg("shards=2"), [])


# ------------------------------------------------------------------------------------------------ sweep checks


def test_check_sweep_names_unfinished_shards_and_logs(tmp_path):
    cfg = _cfg("shards=4", "launcher=slurm")
    (tmp_path / "shard-2").mkdir()
    (tmp_path / "sweep.log").write_text("...\nsubmitit.core.utils.UncompletedJobError: Job 12_2 has not produced "
                                        "any output (state: FAILED)\n")
    outcome = SweepOutcome(tmp_path, 1, 3.0, {0: _receipt(0), 1: _receipt(1)})
    with pytest.raises(SweepError) as info:
        check_sweep(cfg, outcome)
    msg = str(info.value)
    assert "unfinished shards: 2, 3 of 4" in msg and str(tmp_path / "sweep.log") in msg
    assert str(tmp_path / "shard-2") in msg and "UncompletedJobError" in msg and "rerun the same command" in msg


def test_check_sweep_rejects_a_zero_exit_with_missing_receipts(tmp_path):
    (tmp_path / "sweep.log").write_text("")
    with pytest.raises(SweepError, match="unfinished shards: 1 of 2"):
        check_sweep(_cfg("shards=2"), SweepOutcome(tmp_path, 0, 1.0, {0: _receipt(0)}))


def test_check_sweep_expects_receipts_only_for_the_swept_shards(tmp_path):
    (tmp_path / "sweep.log").write_text("")
    check_sweep(_cfg("shards=4"), SweepOutcome(tmp_path, 0, 1.0, {2: _receipt(2)}, [2]))
    with pytest.raises(SweepError, match="unfinished shards: 3 of 4"):
        check_sweep(_cfg("shards=4"), SweepOutcome(tmp_path, 0, 1.0, {2: _receipt(2)}, [2, 3]))


def test_check_sweep_counts_a_failed_receipt_as_unfinished(tmp_path):
    (tmp_path / "sweep.log").write_text("")
    with pytest.raises(SweepError, match="unfinished shards: 0 of 1"):
        check_sweep(_cfg("shards=1"), SweepOutcome(tmp_path, 0, 1.0, {0: _receipt(0, status="failed")}))


def test_check_sweep_rejects_shards_encoded_with_other_numerics(tmp_path):
    cfg = _cfg("shards=2", "device=cpu")
    fp = predicted_fingerprint(cfg.model, "cpu")
    check_sweep(cfg, SweepOutcome(tmp_path, 0, 1.0, {0: _receipt(0, fp), 1: _receipt(1, None)}))  # fine
    gpu = fp.replace("dtype=float32", "dtype=float16")
    with pytest.raises(ConfigError, match="workers encoded with .*float16.* this process would use .*float32"):
        check_sweep(cfg, SweepOutcome(tmp_path, 0, 1.0, {0: _receipt(0, gpu), 1: _receipt(1, gpu)}))


def test_the_outcome_lists_what_the_workers_encoded(tmp_path):
    item = {"task": "SciFact", "subset": "default"}
    receipts = {1: {**_receipt(1), "items": [{**item, "encoded": True}]},
                0: {**_receipt(0), "items": [{**item, "encoded": False}]}}
    assert SweepOutcome(tmp_path, 0, 1.0, receipts).encoded == [(1, "SciFact", "default")]
