"""Corpus-shard sweeps through Hydra launcher plugins: `me5-eval run ... shards=N launcher=gpus|joblib|slurm|ray`.

The runner calls :func:`encode_shards_with_launcher` before its in-process evaluation. It

1. writes the run's resolved config, with absolute paths, to ``<cache.dir>/sweeps/<time>-<pid>/worker_config.yaml``
   (Ray and Slurm tasks may run in another cwd or on another node: the cache dir must be on a shared filesystem);
2. runs ``python -m evaluation.worker --multirun --config-dir <sweep> --config-name worker_config
   shard=range(0,N) hydra/launcher=<launcher.hydra_launcher> ++hydra.launcher.<k>=<v> ...`` in a subprocess, echoing
   its output and copying it to ``<sweep>/sweep.log``;
3. checks the per-shard receipts the workers leave in ``<sweep>/receipts/`` and raises :class:`SweepError` naming
   the unfinished shards and where their logs are if the sweep failed or any receipt is missing.

Only what is missing is swept: tasks whose result is complete are left out, and so are shard indices whose every
(task, language) shard is already stored (a look at manifests and sizes); with nothing missing no sweep starts.

The runner then goes on in-process: every shard is on disk (``load_shard`` verifies it), queries are encoded (cached),
and search, scoring and result writing happen once. Rerunning the same command reuses every finished shard, so a
crash costs only the unfinished shards.

Launchers (``conf/launcher/``): ``local`` (no sweep), ``gpus`` (:class:`GpusLauncher`, one process per visible GPU
claiming shards dynamically), ``joblib`` (hydra-joblib-launcher), ``slurm`` (hydra-submitit-launcher, a job array),
``ray`` (hydra-ray-launcher, one task per shard).
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hydra.plugins.launcher import Launcher

from evaluation.data.jsonl_corpus import corpus_count
from evaluation.data.types import require_documents
from evaluation.encode import shard_embedder
from evaluation.errors import ConfigError, Me5EvalError
from evaluation.results import result_is_complete, task_result_path
from evaluation.retrieval import shard_key
from evaluation.shards import looks_stored
from evaluation.suites import retrieval_specs
from evaluation.task_data import local_corpus_file

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
WORKER_CONFIG = "worker_config"  # <sweep>/worker_config.yaml
RECEIPTS = "receipts"  # <sweep>/receipts/shard-00003.json, one per finished sweep job
GPUS_LAUNCHER = "me5_gpus"  # hydra/launcher=me5_gpus: GpusLauncher, registered by evaluation.worker
# hydra/launcher name -> module that must import (a clear error instead of Hydra's "Could not find")
PLUGIN_MODULES = {
    "joblib": ("hydra_plugins.hydra_joblib_launcher", "hydra-joblib-launcher"),
    "submitit_slurm": ("hydra_plugins.hydra_submitit_launcher", "hydra-submitit-launcher"),
    "submitit_local": ("hydra_plugins.hydra_submitit_launcher", "hydra-submitit-launcher"),
    "ray": ("hydra_plugins.hydra_ray_launcher", "hydra-ray-launcher and ray (pip install -e '.[ray]')"),
}


class SweepError(Me5EvalError):
    """The shard sweep failed or left shards unfinished; rerunning the same command resumes it."""


# ------------------------------------------------------------------------------------------------ config


def absolute_config(cfg):
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


def write_worker_config(cfg, path: Path) -> Path:
    """The resolved RunConfig as a primary Hydra config validated by the same schema (``run_schema``)."""
    from omegaconf import OmegaConf

    body = OmegaConf.to_yaml(OmegaConf.structured(cfg), resolve=True)
    header = (
        "# Written by evaluation.launch for one shard sweep: the driver's resolved config (absolute paths).\n"
        "defaults:\n  - run_schema\n  - _self_\n\n"
    )
    from evaluation.atomic import atomic_write_text

    atomic_write_text(path, header + body)
    return path


_PLAIN = re.compile(r"^[A-Za-z0-9_./:%@+\-]+$")


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


# dict-valued launcher settings passed whole (their keys are sbatch flags, not config paths)
_WHOLE_DICTS = {"additional_parameters"}


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


def worker_command(cfg, sweep_dir: Path, shards: Sequence[int] | None = None) -> list[str]:
    """The multirun command line of the shard sweep over ``shards`` (default: all), as argv (no shell)."""
    hl = cfg.launcher.hydra_launcher
    params = _to_plain(cfg.launcher.params)
    todo = list(range(cfg.shards)) if shards is None else sorted(shards)
    sweep = f"range(0,{cfg.shards})" if todo == list(range(cfg.shards)) else ",".join(map(str, todo))
    cmd = [
        sys.executable, "-m", "evaluation.worker", "--multirun",
        "--config-dir", str(sweep_dir), "--config-name", WORKER_CONFIG,
        f"shard={sweep}",
        f"hydra/launcher={hl}",
        f"hydra.sweep.dir={sweep_dir}",
        "hydra.sweep.subdir=shard-${shard}",
        "hydra.job.name=me5-eval-shard",
    ]  # fmt: skip
    if hl.startswith("submitit") and "submitit_folder" not in params:
        params["submitit_folder"] = f"{sweep_dir}/.submitit/%j"
    return cmd + launcher_overrides(params)


def _to_plain(obj: Any) -> Any:
    from omegaconf import OmegaConf

    if OmegaConf.is_config(obj):
        return OmegaConf.to_container(obj, resolve=True)
    if isinstance(obj, dict):
        return {k: _to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_plain(v) for v in obj]
    return obj


def check_plugin(hydra_launcher: str) -> None:
    if hydra_launcher == GPUS_LAUNCHER or hydra_launcher not in PLUGIN_MODULES:
        return
    module, package = PLUGIN_MODULES[hydra_launcher]
    import importlib

    try:
        importlib.import_module(module)
    except ImportError as e:
        raise ConfigError(
            f"launcher needs the Hydra plugin {package}, which is not installed ({e}); install it or use launcher=local"
        ) from e


def new_sweep_dir(cfg) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    d = Path(cfg.cache.dir, "sweeps", f"{stamp}-{os.getpid()}")
    d.mkdir(parents=True, exist_ok=False)
    return d


# ------------------------------------------------------------------------------------------------ receipts


def receipt_path(receipts_dir: Path, shard: int) -> Path:
    return Path(receipts_dir) / f"shard-{shard:05d}.json"


def read_receipts(sweep_dir: Path) -> dict[int, dict]:
    out = {}
    for p in sorted(Path(sweep_dir, RECEIPTS).glob("shard-*.json")):
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # unreadable: that shard counts as unfinished
        if isinstance(rec, dict) and isinstance(rec.get("shard"), int):
            out[rec["shard"]] = rec
    return out


def _job_logs(sweep_dir: Path, shard: int) -> list[Path]:
    """Where a shard job's logs may be: its Hydra job dir, and submitit's per-job stdout/stderr."""
    found = [p for p in [sweep_dir / f"shard-{shard}"] if p.exists()]
    sub = sweep_dir / ".submitit"
    if sub.is_dir():
        found += sorted(sub.glob(f"*_{shard}/*_{shard}_*_log.*"))[:2]
    return found


def _fmt_shards(shards: Sequence[int]) -> str:
    return ", ".join(map(str, shards[:20])) + (f" ... ({len(shards)} in all)" if len(shards) > 20 else "")


# ------------------------------------------------------------------------------------------------ sweep


@dataclass
class SweepOutcome:
    sweep_dir: Path
    returncode: int
    duration_s: float
    receipts: dict[int, dict]
    shards: list[int] | None = None  # the shard indices the sweep ran (None: all)

    @property
    def encoded(self) -> list[tuple[int, str, str]]:
        """(shard, task, subset) of every item a worker encoded now (not found stored)."""
        return sorted(
            (s, it["task"], it["subset"]) for s, r in self.receipts.items() for it in r["items"] if it["encoded"]
        )


def _stream(proc: subprocess.Popen, log_path: Path, echo: bool) -> list[str]:
    tail: list[str] = []
    with open(log_path, "a", encoding="utf-8", errors="replace") as f:
        for line in proc.stdout:  # type: ignore[union-attr]
            f.write(line)
            f.flush()
            tail.append(line)
            del tail[:-60]
            if echo:
                sys.stderr.write(line)
    return tail


def run_sweep(cfg, sweep_dir: Path, timeout_s: float | None = None, shards: Sequence[int] | None = None
              ) -> SweepOutcome:
    """Run the worker sweep as a subprocess and wait; never raises for a failed sweep (see check_sweep)."""
    cmd = worker_command(cfg, sweep_dir, shards)
    env = dict(os.environ)
    env.setdefault("HYDRA_FULL_ERROR", "1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    log_path = sweep_dir / "sweep.log"
    n = cfg.shards if shards is None else len(shards)
    log.info("shard sweep: %d of %d shards with hydra/launcher=%s; logs in %s", n, cfg.shards,
             cfg.launcher.hydra_launcher, sweep_dir)
    log_path.write_text("$ " + " ".join(cmd) + "\n", encoding="utf-8")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            errors="replace")
    echo = os.environ.get("ME5_EVAL_SWEEP_QUIET") != "1"
    reader = threading.Thread(target=_stream, args=(proc, log_path, echo), daemon=True)
    reader.start()
    try:
        rc = proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        rc = proc.wait()
        log.error("shard sweep exceeded %s s (ME5_EVAL_SWEEP_TIMEOUT_S) and was killed", timeout_s)
    except BaseException:  # Ctrl-C: do not leave the sweep driver or its local workers running
        _kill_tree(proc)
        proc.wait()
        raise
    reader.join(timeout=10)
    expected = list(range(cfg.shards)) if shards is None else sorted(shards)
    return SweepOutcome(sweep_dir, rc, time.monotonic() - t0, read_receipts(sweep_dir), expected)


def process_descendants(pid: int) -> list[int]:
    """Child processes of ``pid``, recursively (Linux /proc; [] elsewhere)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        children.setdefault(int(text.rsplit(")", 1)[1].split()[1]), []).append(int(text.split(" ", 1)[0]))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL the sweep driver and its local workers (joblib/gpus processes); jobs on Slurm/Ray keep running and a
    rerun finds what they stored."""
    import signal

    for pid in [*process_descendants(proc.pid), proc.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def check_sweep(cfg, outcome: SweepOutcome) -> None:
    """Raise SweepError naming unfinished shards and their logs, or ConfigError if the workers' numerics differ."""
    expected = range(cfg.shards) if outcome.shards is None else outcome.shards
    missing = [s for s in expected if s not in outcome.receipts]
    failed = [s for s, r in outcome.receipts.items() if r.get("status") != "ok"]
    bad = sorted(set(missing) | set(failed))
    if outcome.returncode != 0 or bad:
        sweep = outcome.sweep_dir
        logs = [str(p) for s in bad[:3] for p in _job_logs(sweep, s)]
        tail = _last_error(sweep / "sweep.log")
        raise SweepError(
            f"shard sweep (launcher={cfg.launcher.name}, hydra/launcher={cfg.launcher.hydra_launcher}) "
            f"failed with exit code {outcome.returncode}; "
            + (f"unfinished shards: {_fmt_shards(bad)} of {cfg.shards}" if bad else "all shards finished")
            + f".\n  sweep log: {sweep / 'sweep.log'}"
            + ("".join(f"\n  job log: {p}" for p in logs))
            + (f"\n  last error: {tail}" if tail else "")
            + "\nFinished shards are kept: rerun the same command to compute only the unfinished ones."
        )
    from evaluation.models.loading import predicted_fingerprint

    expected = predicted_fingerprint(cfg.model, cfg.device)
    seen = {r.get("fingerprint") for r in outcome.receipts.values() if r.get("fingerprint")}
    if expected and seen and seen != {expected}:
        raise ConfigError(
            f"the shard workers encoded with {sorted(seen)} but this process would use {expected} (device="
            f"{cfg.device}), so it could not reuse their shards. Run the command where the workers' device type is "
            f"available (e.g. inside a GPU allocation), or pin both with model.dtype=... and device=..."
        )


def _last_error(log_path: Path) -> str:
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        s = line.strip()
        if re.match(r"^([\w.]+(Error|Exception)|me5-eval|ERROR)\b", s) or "Error:" in s:
            return s[:400]
    return ""


def preflight(cfg, work) -> None:
    """Fail before submitting anything if a local corpus is missing or empty; count each local corpus once (the
    workers then read only their shard's lines, see evaluation/worker.py)."""
    t0 = time.perf_counter()
    for spec in work:
        for subset in spec.subsets:
            local = local_corpus_file(cfg, spec, subset)
            if local is not None:
                require_documents(corpus_count(local[0], cfg.cache.dir), f"{spec.name}/{subset} ({local[0]})")
    log.info("pre-flight: local corpora checked in %.1f s", time.perf_counter() - t0)


def pending_specs(cfg, specs) -> list:
    """The specs whose result is not complete yet (all with output.overwrite=true): the runner skips the others."""
    if cfg.output.overwrite:
        return list(specs)
    return [s for s in specs if not result_is_complete(task_result_path(cfg.output.dir, cfg.model, s.name), s.split,
                                                       s.subsets)]


def unfinished_shards(cfg, work) -> list[int]:
    """Shard indices with some (task, language) item not stored yet: the ones a sweep has to run. All of them when
    that cannot be told without loading data or the model (hub data, an unpinned hub model)."""
    everything = list(range(cfg.shards))
    emb = shard_embedder(cfg)
    if emb.encoder.predicted is None:
        return everything
    todo: set[int] = set()
    for spec in work:
        for subset in spec.subsets:
            local = local_corpus_file(cfg, spec, subset)
            if local is None:
                return everything
            key = shard_key(emb, spec, subset, corpus_count(local[0], cfg.cache.dir), cfg.shards)
            todo |= {i for i in everything if i not in todo and not looks_stored(cfg.cache.dir, key, i)}
            if len(todo) == cfg.shards:
                return everything
    return sorted(todo)


def encode_shards_with_launcher(cfg, specs) -> SweepOutcome | None:
    """Encode every missing retrieval corpus shard of ``specs`` with ``cfg.launcher``; raises if any shard is left
    unfinished. Tasks whose result is complete, and shard indices already stored, are not swept again."""
    hl = cfg.launcher.hydra_launcher
    if not hl:
        raise ConfigError(f"launcher={cfg.launcher.name} has no hydra_launcher; use launcher=local for in-process runs")
    if cfg.shards < 1:
        raise ConfigError(f"shards={cfg.shards}: need at least 1")
    pending = pending_specs(cfg, specs)
    work = retrieval_specs(pending)
    if not work:
        log.info("no retrieval corpus left to encode (no retrieval task, or complete results): no shard sweep")
        return None
    check_plugin(hl)
    acfg = absolute_config(cfg)
    preflight(acfg, work)
    todo = unfinished_shards(acfg, work)
    if not todo:
        log.info("every corpus shard of this run is stored (%d shards per corpus): no shard sweep", cfg.shards)
        return None
    sweep_dir = new_sweep_dir(acfg)
    # the workers see only the tasks still pending, so they never encode shards of a task whose result is complete
    write_worker_config(replace(acfg, shard=None, tasks=[s.name for s in pending]), sweep_dir / f"{WORKER_CONFIG}.yaml")
    timeout = os.environ.get("ME5_EVAL_SWEEP_TIMEOUT_S")
    outcome = run_sweep(acfg, sweep_dir, float(timeout) if timeout else None, todo)
    check_sweep(acfg, outcome)
    n_enc = len(outcome.encoded)
    n_items = sum(len(r["items"]) for r in outcome.receipts.values())
    log.info("shard sweep done in %.1f s: %d of %d shard items encoded now, the rest were stored", outcome.duration_s,
             n_enc, n_items)
    return outcome


# ------------------------------------------------------------------------------------------------ gpus launcher


@dataclass
class GpusLauncherConf:
    """``hydra/launcher=me5_gpus``: one worker process per visible GPU on this node, shards claimed dynamically."""

    # Hydra instantiates launchers only from the hydra_plugins package: hydra_plugins/me5_gpus_launcher/ subclasses
    # GpusLauncher below (and registers this config) under that name.
    _target_: str = "hydra_plugins.me5_gpus_launcher.gpus_launcher.GpusLauncher"
    workers: int | None = None  # None: one per visible GPU (1 without a GPU); or this many, GPUs shared round-robin
    start_method: str = "spawn"  # CUDA cannot be used in a forked child


def register_gpus_launcher() -> None:
    """Make hydra/launcher=me5_gpus loadable: the repo root (holding hydra_plugins/me5_gpus_launcher) on sys.path,
    so Hydra's plugin scan finds it even where the package is not installed (the console script's sys.path)."""
    if str(REPO) not in sys.path and (REPO / "hydra_plugins" / "me5_gpus_launcher").is_dir():
        sys.path.append(str(REPO))
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(group="hydra/launcher", name=GPUS_LAUNCHER, node=GpusLauncherConf,
                                 provider="me5-eval")


def visible_gpus() -> list[str]:
    """Device ids to pin workers to (CUDA_VISIBLE_DEVICES entries, or 0..n-1); [] without CUDA."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip() and d.strip() != "-1"]
    try:
        import torch

        return [str(i) for i in range(torch.cuda.device_count())]
    except Exception:  # noqa: BLE001 - no torch/driver: CPU only
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

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int):
        import multiprocessing

        from hydra.core.singleton import Singleton
        from hydra.core.utils import JobReturn, JobStatus, configure_log, filter_overrides, setup_globals
        from joblib.externals import cloudpickle

        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        state = sweep_dir / ".gpus"
        state.mkdir(parents=True, exist_ok=True)
        jobs = [(initial_job_idx + i, list(ov)) for i, ov in enumerate(job_overrides)]
        gpus = visible_gpus()
        n = max(1, min(len(jobs), self.workers or len(gpus) or 1))
        log.info("gpus launcher: %d jobs on %d worker process(es), GPUs %s", len(jobs), n, gpus or "none (CPU)")
        for idx, ov in jobs:
            log.info("\t#%d : %s", idx, " ".join(filter_overrides(ov)))
        payload = cloudpickle.dumps((self.hydra_context, self.config, self.task_function, Singleton.get_state(), jobs))
        ctx = multiprocessing.get_context(self.start_method)
        procs = []
        cpus = os.cpu_count() or 1
        for w in range(n):
            env = {"ME5_EVAL_WORKER": str(w)}
            if gpus:
                env["CUDA_VISIBLE_DEVICES"] = gpus[w % len(gpus)]
            else:
                env["ME5_EVAL_TORCH_THREADS"] = str(max(1, cpus // n))
            p = ctx.Process(target=_gpus_worker, args=(payload, str(state), env), name=f"me5-gpus-worker-{w}")
            p.start()
            procs.append(p)
        for p in procs:
            p.join()
        dead = {p.name: p.exitcode for p in procs if p.exitcode != 0}
        out = []
        for idx, ov in jobs:
            ret = JobReturn(overrides=list(ov), task_name=str(self.config.hydra.job.name))
            done = _read_json(state / f"job-{idx}.done")
            if done and done.get("status") == "COMPLETED":
                ret.status, ret.return_value = JobStatus.COMPLETED, done.get("return_value")
            else:
                why = done.get("error") if done else f"no worker finished it (worker exit codes: {dead or 'all 0'})"
                ret.status, ret.return_value = JobStatus.FAILED, RuntimeError(f"job #{idx} failed: {why}")
            out.append(ret)
        return out


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when the sweep driver dies (killed with -9, Ctrl-C), so no orphan keeps a GPU."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _gpus_worker(payload: bytes, state_dir: str, env: dict[str, str]) -> None:
    """One worker process of GpusLauncher (spawned: CUDA_VISIBLE_DEVICES is set before torch is imported)."""
    os.environ.update(env)
    _die_with_parent()
    from filelock import Timeout
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.singleton import Singleton
    from hydra.core.utils import JobStatus, run_job, setup_globals
    from joblib.externals import cloudpickle
    from omegaconf import open_dict

    from evaluation.atomic import atomic_write_json, locked

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
            if done.exists():  # finished between our check and the claim
                continue
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
                    value = None
                atomic_write_json(done, {"status": "COMPLETED", "return_value": value, "worker": env})
            else:
                err = ret._return_value
                atomic_write_json(done, {"status": "FAILED", "error": f"{type(err).__name__}: {err}", "worker": env})
        finally:
            claim.release()
