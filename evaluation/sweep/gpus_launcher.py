"""``hydra/launcher=me5_gpus``: one worker process per visible GPU on this node, shards claimed dynamically.

Hydra instantiates launchers only from the ``hydra_plugins`` package: hydra_plugins/me5_gpus_launcher/ subclasses
:class:`GpusLauncher` under that name and registers :class:`GpusLauncherConf`; the sweep worker registers the config
too (``register_gpus_launcher``), so the launcher also resolves where the plugin package is not installed.
"""

from __future__ import annotations

import ctypes
import json
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import Timeout
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, configure_log, filter_overrides, run_job, setup_globals
from hydra.plugins.launcher import Launcher
from joblib.externals import cloudpickle
from omegaconf import open_dict

from evaluation.atomic import atomic_write_json, locked
from evaluation.sweep.command import GPUS_LAUNCHER, REPO

log = logging.getLogger(__name__)


@dataclass
class GpusLauncherConf:
    """``hydra/launcher=me5_gpus``: one worker process per visible GPU on this node, shards claimed dynamically."""

    _target_: str = "hydra_plugins.me5_gpus_launcher.gpus_launcher.GpusLauncher"
    workers: int | None = None  # None: one per visible GPU (1 without a GPU); or this many, GPUs shared round-robin
    start_method: str = "spawn"  # CUDA cannot be used in a forked child


def register_gpus_launcher() -> None:
    """Make hydra/launcher=me5_gpus loadable: the repo root (holding hydra_plugins/me5_gpus_launcher) on sys.path,
    so Hydra's plugin scan finds it even where the package is not installed (the console script's sys.path)."""
    if str(REPO) not in sys.path and (REPO / "hydra_plugins" / "me5_gpus_launcher").is_dir():
        sys.path.append(str(REPO))
    ConfigStore.instance().store(group="hydra/launcher", name=GPUS_LAUNCHER, node=GpusLauncherConf,
                                 provider="me5-eval")


def worker_threads(n_workers: int, on_gpus: bool, cpus: int | None = None) -> dict[str, str]:
    """Thread caps for each of ``n_workers`` worker processes sharing the node's cores: on GPUs, tokeniser threads
    (the cores less two per worker for its forward loop and collation thread); on CPU, torch threads, and one
    tokeniser thread (the forward pass is what needs the cores). A user's ME5_EVAL_TOKENIZER_THREADS wins.
    RAYON_NUM_THREADS caps the Rust tokenizer's own pool, which would otherwise take every core in every worker."""
    per_worker = (cpus or os.cpu_count() or 1) // n_workers
    tokenizer = os.environ.get("ME5_EVAL_TOKENIZER_THREADS") or str(max(1, per_worker - 2) if on_gpus else 1)
    env = {"ME5_EVAL_TOKENIZER_THREADS": tokenizer, "RAYON_NUM_THREADS": str(max(1, per_worker - 2 if on_gpus
                                                                                   else per_worker))}
    if not on_gpus:
        env["ME5_EVAL_TORCH_THREADS"] = str(max(1, per_worker))
    return env


def visible_gpus() -> list[str]:
    """Device ids to pin workers to (CUDA_VISIBLE_DEVICES entries, or 0..n-1); [] without CUDA."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip() and d.strip() != "-1"]
    try:
        import torch  # deferred: the launcher process itself never needs torch otherwise

        return [str(i) for i in range(torch.cuda.device_count())]
    except Exception as e:  # noqa: BLE001 - no torch/driver: CPU only
        log.info("no CUDA device (%s): the workers run on CPU", e)
        return []


class GpusLauncher(Launcher):
    """A Hydra launcher: N local worker processes; each loops over the sweep's jobs (shards) and runs the first one
    whose claim lock it can take (``timeout=0``) and that is not done yet, until none is left.

    A worker that dies (kill -9, OOM) releases its claim; its job is left unfinished (reported by the driver,
    recomputed by a rerun). Job results travel as small JSON files in ``<sweep>/.gpus/`` (``job-N.done``), next to
    the claim locks (``job-N.lock``) and each worker's pid (``worker-W.pid``).
    """

    def __init__(self, workers: int | None = None, start_method: str = "spawn") -> None:
        self.workers, self.start_method = workers, start_method
        self.config = self.hydra_context = self.task_function = None

    def setup(self, *, hydra_context, task_function, config) -> None:
        self.config, self.hydra_context, self.task_function = config, hydra_context, task_function

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> list[JobReturn]:
        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        state = Path(str(self.config.hydra.sweep.dir)) / ".gpus"
        state.mkdir(parents=True, exist_ok=True)
        jobs = [(initial_job_idx + i, list(ov)) for i, ov in enumerate(job_overrides)]
        gpus = visible_gpus()
        n = max(1, min(len(jobs), self.workers or len(gpus) or 1))
        log.info("gpus launcher: %d jobs on %d worker process(es), GPUs %s", len(jobs), n, gpus or "none (CPU)")
        for idx, ov in jobs:
            log.info("\t#%d : %s", idx, " ".join(filter_overrides(ov)))
        payload = cloudpickle.dumps((self.hydra_context, self.config, self.task_function, Singleton.get_state(), jobs))
        procs = self._start_workers(n, gpus, payload, state)
        for p in procs:
            p.join()
        dead = {p.name: p.exitcode for p in procs if p.exitcode != 0}
        return [self._job_return(idx, ov, _read_json(state / f"job-{idx}.done"), dead) for idx, ov in jobs]

    def _start_workers(self, n: int, gpus: list[str], payload: bytes, state: Path) -> list:
        ctx = multiprocessing.get_context(self.start_method)
        procs = []
        for w in range(n):
            env = {"ME5_EVAL_WORKER": str(w), **worker_threads(n, bool(gpus))}
            if gpus:
                env["CUDA_VISIBLE_DEVICES"] = gpus[w % len(gpus)]
            p = ctx.Process(target=_gpus_worker, args=(payload, str(state), env), name=f"me5-gpus-worker-{w}")
            p.start()
            procs.append(p)
        return procs

    def _job_return(self, idx: int, overrides: list[str], done: dict | None, dead: dict) -> JobReturn:
        ret = JobReturn(overrides=list(overrides), task_name=str(self.config.hydra.job.name))
        if done and done.get("status") == "COMPLETED":
            ret.status, ret.return_value = JobStatus.COMPLETED, done.get("return_value")
        else:
            why = done.get("error") if done else f"no worker finished it (worker exit codes: {dead or 'all 0'})"
            ret.status, ret.return_value = JobStatus.FAILED, RuntimeError(f"job #{idx} failed: {why}")
        return ret


def _read_json(path: Path) -> dict | None:
    """A job's result file, or None when it is absent or unreadable (the job then counts as failed)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when the sweep driver dies (killed with -9, Ctrl-C), so no orphan keeps a GPU."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError) as e:
        log.warning("cannot tie this worker to the sweep driver's life (%s): it may outlive a killed driver", e)


def _gpus_worker(payload: bytes, state_dir: str, env: dict[str, str]) -> None:
    """One worker process of GpusLauncher (spawned: CUDA_VISIBLE_DEVICES is set before torch is imported)."""
    os.environ.update(env)
    _die_with_parent()
    hydra_context, config, task_function, singleton_state, jobs = cloudpickle.loads(payload)
    setup_globals()
    Singleton.set_state(singleton_state)
    state = Path(state_dir)
    (state / f"worker-{env['ME5_EVAL_WORKER']}.pid").write_text(f"{os.getpid()}\n", encoding="utf-8")
    for idx, overrides in jobs:
        done = state / f"job-{idx}.done"
        if done.exists():
            continue
        claim = locked(state / f"job-{idx}", timeout=0)
        try:
            claim.acquire()
        except Timeout:
            continue  # another worker runs it
        try:
            if not done.exists():  # it may have finished between our check and the claim
                _run_one(hydra_context, config, task_function, idx, overrides, done, env)
        finally:
            claim.release()


def _run_one(hydra_context, config, task_function, idx: int, overrides, done: Path, env: dict[str, str]) -> None:
    """Run job ``idx`` as Hydra's own launchers do and record its outcome in ``done``."""
    sweep_config = hydra_context.config_loader.load_sweep_config(config, list(overrides))
    with open_dict(sweep_config):
        sweep_config.hydra.job.id = f"{sweep_config.hydra.job.name}_{idx}"
        sweep_config.hydra.job.num = idx
    HydraConfig.instance().set_config(sweep_config)
    ret = run_job(hydra_context=hydra_context, config=sweep_config, task_function=task_function,
                  job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")
    if ret.status == JobStatus.COMPLETED:
        value = ret._return_value
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            value = None  # the receipt file is the job's real result; Hydra's return value is informational
        atomic_write_json(done, {"status": "COMPLETED", "return_value": value, "worker": env})
    else:
        err = ret._return_value
        atomic_write_json(done, {"status": "FAILED", "error": f"{type(err).__name__}: {err}", "worker": env})
