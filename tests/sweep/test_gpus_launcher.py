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


def test_worker_threads_share_the_node_between_workers(monkeypatch):
    from evaluation.sweep.gpus_launcher import worker_threads

    monkeypatch.delenv("ME5_EVAL_TOKENIZER_THREADS", raising=False)
    # 8 GPUs on a 96-core node: 12 cores per worker, two for the forward loop and the collating thread
    assert worker_threads(8, True, cpus=96) == {"ME5_EVAL_TOKENIZER_THREADS": "10", "RAYON_NUM_THREADS": "10"}
    assert worker_threads(4, True, cpus=8)["ME5_EVAL_TOKENIZER_THREADS"] == "1"  # never 0
    assert worker_threads(2, False, cpus=16) == {"ME5_EVAL_TOKENIZER_THREADS": "1", "RAYON_NUM_THREADS": "8",
                                                 "ME5_EVAL_TORCH_THREADS": "8"}
    monkeypatch.setenv("ME5_EVAL_TOKENIZER_THREADS", "3")
    assert worker_threads(8, True, cpus=96)["ME5_EVAL_TOKENIZER_THREADS"] == "3"
