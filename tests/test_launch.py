"""evaluation/launch.py and the conf/launcher/ configs: the sweep command, configs, receipts, error messages.

Fast (no sweep is run here; tests/test_fault_tolerance.py and tests/cluster/test_sharded_eval.py run real ones).
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from evaluation import launch
from evaluation.compose import compose_run_config
from evaluation.config import RunConfig, register_configs
from evaluation.errors import ConfigError, Me5EvalError, resource_errors
from evaluation.launch import (
    SweepError,
    SweepOutcome,
    absolute_config,
    check_sweep,
    format_value,
    launcher_overrides,
    worker_command,
    write_worker_config,
)
from evaluation.models.loading import predicted_fingerprint
from evaluation.shards import ShardKey

# ------------------------------------------------------------------------------------------------ configs


@pytest.mark.parametrize(
    "launcher, hydra_launcher",
    [("local", None), ("gpus", "me5_gpus"), ("joblib", "joblib"), ("slurm", "submitit_slurm"), ("ray", "ray")],
)
def test_every_launcher_config_composes(launcher, hydra_launcher):
    cfg = compose_run_config([f"launcher={launcher}", "shards=4"])
    assert (cfg.launcher.name, cfg.launcher.hydra_launcher, cfg.shards) == (launcher, hydra_launcher, 4)


def test_slurm_defaults_request_a_gpu_a_time_limit_and_requeue():
    p = compose_run_config(["launcher=slurm"]).launcher.params
    assert p["gpus_per_task"] == 1 and p["timeout_min"] > 0 and p["max_num_timeout"] >= 1
    assert p["additional_parameters"] == {"requeue": True}


def test_launcher_params_are_overridable_from_the_command_line():
    cfg = compose_run_config(["launcher=slurm", "launcher.params.partition=gpu", "launcher.params.gpus_per_task=null",
                              "++launcher.params.account=lab"])
    assert cfg.launcher.params["partition"] == "gpu" and cfg.launcher.params["gpus_per_task"] is None
    assert cfg.launcher.params["account"] == "lab"


def test_unknown_launcher_names_the_choices():
    with pytest.raises(ConfigError, match="unknown launcher 'pbs'.*gpus, joblib, local, ray, slurm"):
        compose_run_config(["launcher=pbs"])


# ------------------------------------------------------------------------------------------------ overrides


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "null"), (True, "true"), (False, "false"), (3, "3"), (0.5, "0.5"), ("gpu", "gpu"),
        ("/abs/x/.submitit/%j", "/abs/x/.submitit/%j"), ("127.0.0.1:6379", "'127.0.0.1:6379'"),
        ("head:6379", "head:6379"),
        ("two words", "'two words'"), ("it's", "'it\\'s'"), ("null", "'null'"), ("01", "'01'"),
        (["module load cuda", "echo"], "['module load cuda',echo]"), ({"requeue": True}, "{requeue:true}"),
    ],
)  # fmt: skip
def test_format_value_in_hydra_grammar(value, text):
    assert format_value(value) == text


def test_launcher_overrides_flatten_nested_params_but_not_sbatch_dicts():
    params = {"ray": {"init": {"address": "h:6379", "object_store_memory": None}, "remote": {"num_gpus": 1}},
              "additional_parameters": {"requeue": True, "mail-type": "END"}, "setup": []}
    assert launcher_overrides(params) == [
        "++hydra.launcher.ray.init.address=h:6379",
        "++hydra.launcher.ray.init.object_store_memory=null",
        "++hydra.launcher.ray.remote.num_gpus=1",
        "++hydra.launcher.additional_parameters={requeue:true,mail-type:END}",
        "++hydra.launcher.setup=[]",
    ]


def test_worker_command_sweeps_every_shard_with_the_chosen_launcher(tmp_path):
    cfg = compose_run_config(["launcher=slurm", "shards=64", "launcher.params.partition=gpu"])
    cmd = worker_command(cfg, tmp_path)
    assert cmd[1:4] == ["-m", "evaluation.worker", "--multirun"]
    assert ["--config-dir", str(tmp_path), "--config-name", "worker_config"] == cmd[4:8]
    assert "shard=range(0,64)" in cmd and "hydra/launcher=submitit_slurm" in cmd
    assert f"hydra.sweep.dir={tmp_path}" in cmd and "++hydra.launcher.partition=gpu" in cmd
    assert f"++hydra.launcher.submitit_folder={tmp_path}/.submitit/%j" in cmd  # absolute, on the shared disk


def test_worker_command_sweeps_only_the_given_shards(tmp_path):
    cfg = compose_run_config(["launcher=joblib", "shards=8"])
    assert "shard=1,3,7" in worker_command(cfg, tmp_path, [7, 1, 3])
    assert "shard=range(0,8)" in worker_command(cfg, tmp_path, list(range(8)))


def test_absolute_config_makes_every_path_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mymodel").mkdir()
    cfg = compose_run_config(["model=custom", "model.name=mymodel", "data.root=data", "output.dir=res",
                              "cache.dir=.c", "data.paths.SciFact=scifact"])
    a = absolute_config(cfg)
    assert a.output.dir == str(tmp_path / "res") and a.cache.dir == str(tmp_path / ".c")
    assert a.data.root == str(tmp_path / "data")
    assert a.data.paths == {"SciFact": "scifact"}  # relative to data.root, which is absolute now
    assert a.model.name == "mymodel" and a.model.path == str(tmp_path / "mymodel")  # name = results folder


def test_worker_config_round_trips_through_hydra(tmp_path):
    cfg = absolute_config(compose_run_config(["model=minilm", "suite=miracl", "langs=[sw,yo]", "shards=8",
                                              "launcher=ray", "model.max_length=128", "batch_size=16"]))
    write_worker_config(cfg, tmp_path / "worker_config.yaml")
    register_configs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(tmp_path), version_base="1.3"):
            back: RunConfig = OmegaConf.to_object(compose(config_name="worker_config", overrides=["shard=3"]))
    finally:
        GlobalHydra.instance().clear()
    assert back.shard == 3
    back.shard = None
    assert back == cfg  # instruction template with its newline, nested suite tasks, launcher params: all equal


# ------------------------------------------------------------------------------------------------ fingerprints


def test_predicted_fingerprint_equals_the_loaded_encoders():
    from evaluation.models.loading import load_encoder

    cfg = compose_run_config(["model=minilm"])
    assert predicted_fingerprint(cfg.model, "cpu") == load_encoder(cfg.model, device="cpu").model_fingerprint()


def test_another_revision_or_max_length_gives_another_shard_key():
    def key(*overrides):
        cfg = compose_run_config(["model=small", *overrides])
        fp = predicted_fingerprint(cfg.model, "cpu")
        return ShardKey(fp, "paper", "passage: ", cfg.model.max_length, True, "MIRACLRetrieval", "sw", "dev", 10, 2)

    base = key()
    assert key("model.revision=0123abc").digest() != base.digest()
    assert key("model.max_length=256").digest() != base.digest()
    assert key().digest() == base.digest()


def test_unpinned_hub_model_has_no_predicted_fingerprint():
    cfg = compose_run_config(["model=small", "model.revision=null"])
    assert predicted_fingerprint(cfg.model, "cpu") is None


# ------------------------------------------------------------------------------------------------ errors


def _cfg(**kw):
    return compose_run_config(["model=minilm", *(f"{k}={v}" for k, v in kw.items())])


def test_cuda_oom_names_batch_size():
    import torch

    with pytest.raises(Me5EvalError, match=r"out of GPU memory while encoding X.*batch_size=64.*batch_size=32"):
        with resource_errors(_cfg(), "encoding X"):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_out_of_disk_names_cache_dir_and_size():
    with pytest.raises(Me5EvalError, match=r"no space left.*cache.dir=/big/c \(this shard needs 1.50 GB\)"):
        with resource_errors(_cfg(**{"cache.dir": "/big/c"}), "writing", shard_gb=1.5):
            raise OSError(errno.ENOSPC, "No space left on device")


def test_out_of_host_memory_names_shards():
    with pytest.raises(Me5EvalError, match=r"out of host memory.*raise shards= \(now 4\)"):
        with resource_errors(_cfg(shards=4), "encoding"):
            raise MemoryError()


def test_other_errors_pass_through_unchanged():
    with pytest.raises(PermissionError):
        with resource_errors(_cfg(), "writing"):
            raise PermissionError(errno.EACCES, "denied")
    with pytest.raises(ValueError):
        with resource_errors(_cfg(), "encoding"):
            raise ValueError("a bug")


# ------------------------------------------------------------------------------------------------ sweep checks


def _receipt(shard: int, fingerprint: str | None = None, status: str = "ok") -> dict:
    return {"status": status, "shard": shard, "items": [], "fingerprint": fingerprint}


def test_check_sweep_names_unfinished_shards_and_logs(tmp_path):
    cfg = _cfg(shards=4, launcher="slurm")
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
        check_sweep(_cfg(shards=2), SweepOutcome(tmp_path, 0, 1.0, {0: _receipt(0)}))


def test_check_sweep_rejects_shards_encoded_with_other_numerics(tmp_path):
    cfg = _cfg(shards=2, device="cpu")
    fp = predicted_fingerprint(cfg.model, "cpu")
    check_sweep(cfg, SweepOutcome(tmp_path, 0, 1.0, {0: _receipt(0, fp), 1: _receipt(1, None)}))  # fine
    gpu = fp.replace("dtype=float32", "dtype=float16")
    with pytest.raises(ConfigError, match="workers encoded with .*float16.* this process would use .*float32"):
        check_sweep(cfg, SweepOutcome(tmp_path, 0, 1.0, {0: _receipt(0, gpu), 1: _receipt(1, gpu)}))


def test_receipts_that_are_unreadable_count_as_unfinished(tmp_path):
    d = tmp_path / "receipts"
    d.mkdir()
    (d / "shard-00000.json").write_text(json.dumps(_receipt(0)))
    (d / "shard-00001.json").write_text('{"status": "ok", "sha')  # truncated
    assert sorted(launch.read_receipts(tmp_path)) == [0]


def test_a_run_without_retrieval_tasks_starts_no_sweep(tmp_path):
    from evaluation.suites import resolve_suite

    cfg = _cfg(shards=4, launcher="joblib", **{"cache.dir": str(tmp_path)})
    specs = resolve_suite(cfg.suite, ["STSBenchmark"], None)
    assert launch.encode_shards_with_launcher(cfg, specs) is None
    assert not (tmp_path / "sweeps").exists()


def test_missing_plugin_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(launch.PLUGIN_MODULES, "ray", ("hydra_plugins.not_installed_xyz", "hydra-ray-launcher"))
    with pytest.raises(ConfigError, match="needs the Hydra plugin hydra-ray-launcher"):
        launch.check_plugin("ray")


def test_gpus_launcher_is_a_hydra_plugin():
    from hydra.core.plugins import Plugins

    launch.register_gpus_launcher()
    Plugins.instance()  # scans hydra_plugins, including hydra_plugins/me5_gpus_launcher
    from hydra_plugins.me5_gpus_launcher.gpus_launcher import GpusLauncher

    assert launch.GpusLauncherConf._target_ == f"{GpusLauncher.__module__}.GpusLauncher"
    assert Path(launch.REPO, "hydra_plugins", "me5_gpus_launcher").is_dir()


def test_fixed_padding_batches_never_mix_padded_widths():
    """What makes 1, 2 and 4 shards give the same vectors: a text is padded to its own width (multiple of 8)."""
    import numpy as np

    from evaluation.models.batching import length_sorted_batches

    lengths = np.array([3, 9, 3, 7, 9, 1])
    assert [b.tolist() for b in length_sorted_batches(lengths, 4)] == [[1, 4, 3, 0], [2, 5]]
    assert [b.tolist() for b in length_sorted_batches(lengths, 4, max_length=512)] == [[1, 4], [3, 0, 2, 5]]
    # at max_length the width is max_length itself, not the next multiple of 8
    assert [b.tolist() for b in length_sorted_batches(np.array([10, 12, 9]), 8, max_length=10)] == [[1], [0, 2]]


# ------------------------------------------------------------------------------------------------ shard windows


def test_worker_reads_exactly_its_shard_of_a_beir_corpus(data_root, tmp_path):
    from evaluation.data.beir import read_beir_corpus
    from evaluation.data.jsonl_corpus import corpus_count, read_corpus_window
    from evaluation.shards import shard_plan

    path = data_root / "beir" / "scifact" / "corpus.jsonl"
    full = read_beir_corpus(path)
    n = corpus_count(path, str(tmp_path))
    assert n == len(full) == 5183
    for rng in shard_plan(n, 3):
        win = read_corpus_window(path, "_id", n, rng.start, rng.end)
        assert len(win) == n
        assert win.ids[rng.start : rng.end] == full.ids[rng.start : rng.end]
        assert [win.titles[i] for i in range(rng.start, rng.end)] == full.titles[rng.start : rng.end]
        assert [win.texts[i] for i in (rng.start, rng.end - 1)] == [full.texts[rng.start], full.texts[rng.end - 1]]
        outside = rng.start - 1 if rng.start else rng.end  # a document of another shard: never loaded
        with pytest.raises(IndexError):
            win.ids[outside]
        with pytest.raises(IndexError):
            win.ids[outside : outside + 2]


def test_worker_reads_a_gzipped_trec_corpus_like_the_loader(data_root, tmp_path):
    import gzip

    from evaluation.data.jsonl_corpus import read_corpus_window
    from evaluation.data.trec import read_jsonl_corpus

    lines = []
    for lang in ("ar", "en", "ja", "sw"):
        with gzip.open(data_root / "mrtydi" / "corpus-sample" / lang / "corpus.jsonl.gz", "rt", encoding="utf-8") as f:
            lines += [line for line in f if line.strip()]
    path = tmp_path / "corpus.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("".join(lines[:5]) + "\n" + "".join(lines[5:]))  # a blank line: skipped by both readers
    full = read_jsonl_corpus(path)
    win = read_corpus_window(path, "docid", len(full), 3, 11)
    assert win.ids[3:11] == full.ids[3:11] and [win.texts[i] for i in range(3, 11)] == full.texts[3:11]


def test_corpus_count_is_remembered_until_the_file_changes(tmp_path, monkeypatch):
    import os

    import evaluation.data._files as files
    from evaluation.data.jsonl_corpus import corpus_count

    path = tmp_path / "corpus.jsonl"
    path.write_text('{"_id": "a", "text": "x"}\n\n{"_id": "b", "text": "y"}\n')
    assert corpus_count(path, str(tmp_path / "c")) == 2
    monkeypatch.setattr(files, "count_lines", lambda p: pytest.fail("counted again"))
    assert corpus_count(path, str(tmp_path / "c")) == 2
    monkeypatch.undo()
    path.write_text('{"_id": "a", "text": "x"}\n')
    os.utime(path, ns=(1, 1))
    assert corpus_count(path, str(tmp_path / "c")) == 1


def test_check_sweep_expects_receipts_only_for_the_swept_shards(tmp_path):
    (tmp_path / "sweep.log").write_text("")
    check_sweep(_cfg(shards=4), SweepOutcome(tmp_path, 0, 1.0, {2: _receipt(2)}, [2]))
    with pytest.raises(SweepError, match="unfinished shards: 3 of 4"):
        check_sweep(_cfg(shards=4), SweepOutcome(tmp_path, 0, 1.0, {2: _receipt(2)}, [2, 3]))


def test_a_corpus_that_shrank_after_counting_is_an_error_naming_the_file(tmp_path):
    from evaluation.data.jsonl_corpus import read_corpus_window
    from evaluation.errors import DataFileError

    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(f'{{"_id": "d{i}", "text": "t{i}"}}\n' for i in range(4)))
    assert read_corpus_window(path, "_id", 6, 2, 4).ids[2:4] == ["d2", "d3"]
    with pytest.raises(DataFileError, match=r"corpus.jsonl: has fewer documents than the 6 counted before"):
        read_corpus_window(path, "_id", 6, 4, 6)
