"""evaluation/sweep/command.py and evaluation/conf/launcher/: the sweep command line, workers' config, plugin check.

Fast: no sweep runs here (tests/test_fault_tolerance.py and tests/cluster/test_sharded_eval.py run real ones).
"""

from __future__ import annotations

import sys

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from evaluation.compose import compose_run_config
from evaluation.config import RunConfig, register_configs
from evaluation.errors import ConfigError
from evaluation.sweep import command
from evaluation.sweep.command import (
    absolute_config,
    check_plugin,
    format_value,
    launcher_overrides,
    worker_command,
    write_worker_config,
)

# ------------------------------------------------------------------------------------------------ launcher configs


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


# ------------------------------------------------------------------------------------------------ the command


def test_worker_command_sweeps_every_shard_with_the_chosen_launcher(tmp_path):
    cfg = compose_run_config(["launcher=slurm", "shards=64", "launcher.params.partition=gpu"])
    cmd = worker_command(cfg, tmp_path)
    assert cmd[:4] == [sys.executable, "-m", "evaluation.sweep.worker", "--multirun"]
    assert ["--config-dir", str(tmp_path), "--config-name", "worker_config"] == cmd[4:8]
    assert "shard_index=range(0,64)" in cmd and "hydra/launcher=submitit_slurm" in cmd
    assert "hydra.sweep.subdir=shard-${shard_index}" in cmd  # one Hydra job dir per shard: <sweep>/shard-7/
    assert f"hydra.sweep.dir={tmp_path}" in cmd and "++hydra.launcher.partition=gpu" in cmd
    assert f"++hydra.launcher.submitit_folder={tmp_path}/.submitit/%j" in cmd  # absolute, on the shared disk


def test_worker_command_sweeps_only_the_given_shards(tmp_path):
    cfg = compose_run_config(["launcher=joblib", "shards=8"])
    assert "shard_index=1,3,7" in worker_command(cfg, tmp_path, [7, 1, 3])
    assert "shard_index=range(0,8)" in worker_command(cfg, tmp_path, list(range(8)))


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
            back: RunConfig = OmegaConf.to_object(compose(config_name="worker_config", overrides=["shard_index=3"]))
    finally:
        GlobalHydra.instance().clear()
    assert back.shard_index == 3 and back.shards == 8
    back.shard_index = None
    assert back == cfg  # instruction template with its newline, nested suite tasks, launcher params: all equal


# ------------------------------------------------------------------------------------------------ plugins


def test_missing_plugin_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(command.PLUGIN_MODULES, "ray", ("hydra_plugins.not_installed_xyz", "hydra-ray-launcher"))
    with pytest.raises(ConfigError, match="needs the Hydra plugin hydra-ray-launcher"):
        check_plugin("ray")


def test_installed_plugins_and_our_own_launcher_pass_the_check():
    check_plugin("joblib")  # hydra-joblib-launcher is a dependency
    check_plugin("me5_gpus")  # ours: registered by the worker, nothing to import
