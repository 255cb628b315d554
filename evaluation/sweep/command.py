"""The worker sweep's command line: the config file the workers read, the multirun argv, the launcher's overrides.

``python -m evaluation.sweep.worker --multirun --config-dir <sweep> --config-name worker_config
shard_index=range(0,N) hydra/launcher=<launcher.hydra_launcher> ++hydra.launcher.<k>=<v> ...``; the config is the
driver's resolved RunConfig with absolute paths (Ray and Slurm jobs may run in another cwd or on another node).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from evaluation.atomic import atomic_write_text
from evaluation.config import RunConfig
from evaluation.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]  # this checkout: on the jobs' PYTHONPATH, holds hydra_plugins/
WORKER_MODULE = "evaluation.sweep.worker"  # python -m evaluation.sweep.worker: the Hydra app each job runs
WORKER_CONFIG = "worker_config"  # <sweep>/worker_config.yaml
GPUS_LAUNCHER = "me5_gpus"  # hydra/launcher=me5_gpus: evaluation/sweep/gpus_launcher.py, registered by the worker
# hydra/launcher name -> module that must import (a clear error instead of Hydra's "Could not find")
PLUGIN_MODULES = {
    "joblib": ("hydra_plugins.hydra_joblib_launcher", "hydra-joblib-launcher"),
    "submitit_slurm": ("hydra_plugins.hydra_submitit_launcher", "hydra-submitit-launcher"),
    "submitit_local": ("hydra_plugins.hydra_submitit_launcher", "hydra-submitit-launcher"),
    "ray": ("hydra_plugins.hydra_ray_launcher", "hydra-ray-launcher and ray (pip install -e '.[ray]')"),
}
_PLAIN = re.compile(r"^[A-Za-z0-9_./:%@+\-]+$")
# dict-valued launcher settings passed whole (their keys are sbatch flags, not config paths)
_WHOLE_DICTS = {"additional_parameters"}


def absolute_config(cfg: RunConfig) -> RunConfig:
    """The run config with every path absolute (tasks on Ray/Slurm may run in another cwd)."""

    def absolute(p: str | None) -> str | None:
        return None if p is None else str(Path(p).expanduser().resolve())

    data_root = absolute(cfg.data.root)
    paths = {
        task: (p if data_root and not Path(p).expanduser().is_absolute() else absolute(p))
        for task, p in cfg.data.paths.items()
    }  # a relative data.paths entry is relative to data.root when that is set (see evaluation/data/registry.py)
    model = cfg.model
    if model.path:
        model = replace(model, path=absolute(model.path))
    elif Path(model.name).expanduser().is_dir():  # a local dir given as the name: keep the name (results folder)
        model = replace(model, path=absolute(model.name))
    return replace(
        cfg,
        model=model,
        data=replace(cfg.data, root=data_root, paths=paths),
        output=replace(cfg.output, dir=absolute(cfg.output.dir)),
        cache=replace(cfg.cache, dir=absolute(cfg.cache.dir)),
    )


def write_worker_config(cfg: RunConfig, path: Path) -> Path:
    """The resolved RunConfig as a primary Hydra config validated by the same schema (``run_schema``)."""
    body = OmegaConf.to_yaml(OmegaConf.structured(cfg), resolve=True)
    header = (
        "# Written by evaluation.sweep for one shard sweep: the driver's resolved config (absolute paths).\n"
        "defaults:\n  - run_schema\n  - _self_\n\n"
    )
    atomic_write_text(path, header + body)
    return path


def format_value(value: Any) -> str:
    """A Python value in Hydra's override grammar."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{format_value(v)}" for k, v in value.items()) + "}"
    text = str(value)
    if _PLAIN.match(text) and text not in ("null", "true", "false") and not re.match(r"^[+-]?\d", text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def launcher_overrides(params: dict[str, Any], prefix: str = "hydra.launcher") -> list[str]:
    """``++hydra.launcher.<dotted key>=<value>`` for every leaf of ``launcher.params`` (nested dicts flattened).

    ``++`` sets a key whether or not the launcher's schema has it (``ray.init.*`` takes any ray.init argument).
    """
    out = []
    for key, value in params.items():
        dotted = f"{prefix}.{key}"
        if isinstance(value, dict) and value and key not in _WHOLE_DICTS:
            out += launcher_overrides(value, dotted)
        else:
            out.append(f"++{dotted}={format_value(value)}")
    return out


def worker_command(cfg: RunConfig, sweep_dir: Path, shards: Sequence[int] | None = None) -> list[str]:
    """The multirun command line of the shard sweep over shard indices ``shards`` (default: all), as argv."""
    hl = cfg.launcher.hydra_launcher
    params = _to_plain(cfg.launcher.params)
    todo = list(range(cfg.shards)) if shards is None else sorted(shards)
    sweep = f"range(0,{cfg.shards})" if todo == list(range(cfg.shards)) else ",".join(map(str, todo))
    cmd = [
        sys.executable, "-m", WORKER_MODULE, "--multirun",
        "--config-dir", str(sweep_dir), "--config-name", WORKER_CONFIG,
        f"shard_index={sweep}",
        f"hydra/launcher={hl}",
        f"hydra.sweep.dir={sweep_dir}",
        "hydra.sweep.subdir=shard-${shard_index}",
        "hydra.job.name=me5-eval-shard",
    ]  # fmt: skip
    if hl.startswith("submitit") and "submitit_folder" not in params:
        params["submitit_folder"] = f"{sweep_dir}/.submitit/%j"
    return cmd + launcher_overrides(params)


def _to_plain(obj: Any) -> Any:
    if OmegaConf.is_config(obj):
        return OmegaConf.to_container(obj, resolve=True)
    if isinstance(obj, dict):
        return {k: _to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_plain(v) for v in obj]
    return obj


def check_plugin(hydra_launcher: str) -> None:
    """A launcher whose Hydra plugin is not installed fails here, naming the package to install."""
    if hydra_launcher == GPUS_LAUNCHER or hydra_launcher not in PLUGIN_MODULES:
        return
    module, package = PLUGIN_MODULES[hydra_launcher]
    try:
        importlib.import_module(module)
    except ImportError as e:
        raise ConfigError(
            f"launcher needs the Hydra plugin {package}, which is not installed ({e}); install it or use launcher=local"
        ) from e
