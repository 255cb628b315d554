"""Corpus-shard sweeps through Hydra launcher plugins: `me5-eval run ... shards=N launcher=gpus|joblib|slurm|ray`.

The runner calls :func:`encode_shards_with_launcher` before its in-process evaluation. It

1. works out what is pending: tasks whose result is complete are left out, and so are shard indices whose every
   (task, language) shard is already stored (a look at manifests and sizes); with nothing missing no sweep starts;
2. checks before submitting anything that every local corpus exists and is non-empty (pre-flight);
3. writes the run's resolved config, with absolute paths, to ``<cache.dir>/sweeps/<time>-<pid>/worker_config.yaml``
   (the cache dir must be on a filesystem the jobs share) and runs the sweep (evaluation/sweep/command.py) in a
   subprocess, echoing its output and copying it to ``<sweep>/sweep.log``;
4. checks the per-shard receipts the workers leave in ``<sweep>/receipts/`` (evaluation/sweep/receipts.py) and raises
   :class:`SweepError` naming the unfinished shards and where their logs are if the sweep failed or any receipt is
   missing.

The runner then goes on in-process: every shard is on disk (``load_shard`` verifies it), queries are encoded (cached),
and search, scoring and result writing happen once. Rerunning the same command reuses every finished shard, so a
crash costs only the unfinished shards.

Launchers (``evaluation/conf/launcher/``): ``local`` (no sweep), ``gpus`` (sweep/gpus_launcher.py, one process per
visible GPU claiming shards dynamically), ``joblib`` (hydra-joblib-launcher), ``slurm`` (hydra-submitit-launcher, a
job array), ``ray`` (hydra-ray-launcher, one task per shard).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from evaluation.config import RunConfig
from evaluation.data.jsonl_corpus import corpus_count
from evaluation.data.types import require_documents
from evaluation.encode import shard_embedder
from evaluation.errors import ConfigError, Me5EvalError
from evaluation.models.loading import predicted_fingerprint
from evaluation.results import result_is_complete, task_result_path
from evaluation.retrieval import shard_key
from evaluation.shards import looks_stored
from evaluation.suites import TaskSpec, retrieval_specs
from evaluation.sweep.command import (
    REPO,
    WORKER_CONFIG,
    absolute_config,
    check_plugin,
    worker_command,
    write_worker_config,
)
from evaluation.sweep.receipts import encoded_items, read_receipts
from evaluation.task_data import local_corpus_file

log = logging.getLogger(__name__)


class SweepError(Me5EvalError):
    """The shard sweep failed or left shards unfinished; rerunning the same command resumes it."""


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
        return encoded_items(self.receipts)


# ------------------------------------------------------------------------------------------------ what to sweep


def pending_specs(cfg: RunConfig, specs: list[TaskSpec]) -> list[TaskSpec]:
    """The specs whose result is not complete yet (all with output.overwrite=true): the runner skips the others."""
    if cfg.output.overwrite:
        return list(specs)
    return [s for s in specs if not result_is_complete(task_result_path(cfg.output.dir, cfg.model, s.name), s.split,
                                                       s.subsets)]


def preflight(cfg: RunConfig, work: list[TaskSpec]) -> None:
    """Fail before submitting anything if a local corpus is missing or empty; count each local corpus once (the
    workers then read only their shard's lines, see evaluation/sweep/worker.py)."""
    t0 = time.perf_counter()
    for spec in work:
        for subset in spec.subsets:
            local = local_corpus_file(cfg, spec, subset)
            if local is not None:
                require_documents(corpus_count(local[0], cfg.cache.dir), f"{spec.name}/{subset} ({local[0]})")
    log.info("pre-flight: local corpora checked in %.1f s", time.perf_counter() - t0)


def unfinished_shards(cfg: RunConfig, work: list[TaskSpec]) -> list[int]:
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


def new_sweep_dir(cfg: RunConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    d = Path(cfg.cache.dir, "sweeps", f"{stamp}-{os.getpid()}")
    d.mkdir(parents=True, exist_ok=False)
    return d


def encode_shards_with_launcher(cfg: RunConfig, specs: list[TaskSpec]) -> SweepOutcome | None:
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
    write_worker_config(replace(acfg, shard_index=None, tasks=[s.name for s in pending]),
                        sweep_dir / f"{WORKER_CONFIG}.yaml")
    timeout = os.environ.get("ME5_EVAL_SWEEP_TIMEOUT_S")
    outcome = run_sweep(acfg, sweep_dir, float(timeout) if timeout else None, todo)
    check_sweep(acfg, outcome)
    n_items = sum(len(r["items"]) for r in outcome.receipts.values())
    log.info("shard sweep done in %.1f s: %d of %d shard items encoded now, the rest were stored", outcome.duration_s,
             len(outcome.encoded), n_items)
    return outcome


# ------------------------------------------------------------------------------------------------ run the sweep


def run_sweep(cfg: RunConfig, sweep_dir: Path, timeout_s: float | None = None, shards: Sequence[int] | None = None
              ) -> SweepOutcome:
    """Run the worker sweep as a subprocess and wait; never raises for a failed sweep (see check_sweep)."""
    cmd = worker_command(cfg, sweep_dir, shards)
    env = dict(os.environ)
    env.setdefault("HYDRA_FULL_ERROR", "1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)  # jobs import this checkout
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


def process_descendants(pid: int) -> list[int]:
    """Child processes of ``pid``, recursively (Linux /proc; [] elsewhere)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended while we listed /proc: it has no children to kill
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
    for pid in [*process_descendants(proc.pid), proc.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue  # already gone, or not ours: nothing left to stop


# ------------------------------------------------------------------------------------------------ check receipts


def check_sweep(cfg: RunConfig, outcome: SweepOutcome) -> None:
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
    ours = predicted_fingerprint(cfg.model, cfg.device, cfg.cache.dir if cfg.cache.enabled else None)
    seen = {r.get("fingerprint") for r in outcome.receipts.values() if r.get("fingerprint")}
    if ours and seen and seen != {ours}:
        raise ConfigError(
            f"the shard workers encoded with {sorted(seen)} but this process would use {ours} (device="
            f"{cfg.device}), so it could not reuse their shards. Run the command where the workers' device type is "
            f"available (e.g. inside a GPU allocation), or pin both with model.dtype=... and device=..."
        )


def _job_logs(sweep_dir: Path, shard: int) -> list[Path]:
    """Where a shard job's logs may be: its Hydra job dir, and submitit's per-job stdout/stderr."""
    found = [p for p in [sweep_dir / f"shard-{shard}"] if p.exists()]
    sub = sweep_dir / ".submitit"
    if sub.is_dir():
        found += sorted(sub.glob(f"*_{shard}/*_{shard}_*_log.*"))[:2]
    return found


def _fmt_shards(shards: Sequence[int]) -> str:
    return ", ".join(map(str, shards[:20])) + (f" ... ({len(shards)} in all)" if len(shards) > 20 else "")


def _last_error(log_path: Path) -> str:
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as e:
        log.warning("cannot read the sweep log %s (%s); the error message names no last error", log_path, e)
        return ""
    for line in reversed(lines):
        s = line.strip()
        if re.match(r"^([\w.]+(Error|Exception)|me5-eval|ERROR)\b", s) or "Error:" in s:
            return s[:400]
    return ""
