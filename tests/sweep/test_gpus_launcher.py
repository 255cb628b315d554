"""evaluation/sweep/gpus_launcher.py: the one-process-per-GPU Hydra launcher (its real sweeps run in
tests/test_fault_tolerance.py, kill -9 included, and tests/cluster/test_sharded_eval.py)."""

from __future__ import annotations

from hydra.core.plugins import Plugins

from evaluation.sweep.command import REPO
from evaluation.sweep.gpus_launcher import GpusLauncherConf, register_gpus_launcher, visible_gpus


def test_gpus_launcher_is_a_hydra_plugin():
    register_gpus_launcher()
    Plugins.instance()  # scans hydra_plugins, including hydra_plugins/me5_gpus_launcher
    from hydra_plugins.me5_gpus_launcher.gpus_launcher import GpusLauncher

    assert GpusLauncherConf._target_ == f"{GpusLauncher.__module__}.GpusLauncher"
    assert (REPO / "hydra_plugins" / "me5_gpus_launcher").is_dir()


def test_workers_are_pinned_to_the_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 5,-1")
    assert visible_gpus() == ["2", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert visible_gpus() == []  # no device: the workers run on CPU
