"""`me5-eval run [--help] [--cfg job] [--multirun] [overrides]`: the Hydra application that evaluates a model on a
suite (evaluation/runner.py), then prints where the results went and how far each task landed from the published
scores (evaluation/published.py).

Hydra parses the command line, composes evaluation/conf/ and runs the job, or with --multirun one job per
combination of the swept values (each writes its own results). Before Hydra starts, every job's overrides are
composed once by evaluation/compose.py, so a typo is one line that names the fix (exit 2), not Hydra's report.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra._internal.utils import _run_hydra, get_args_parser
from omegaconf import DictConfig, ListConfig, OmegaConf
from tabulate import tabulate

from evaluation.compose import (
    check_data_paths,
    compose_dict,
    compose_run_config,
    conf_dir,
    group_choices,
    normalise_overrides,
    sweep_jobs,
)
from evaluation.config import RunConfig, register_configs
from evaluation.errors import Me5EvalError
from evaluation.identity import filed_config
from evaluation.published import Landing, landings, reference_dir, report_settings
from evaluation.results import revision_dir
from evaluation.runner import run

# The run app logs through our CLI's logging (no Hydra log files), writes into the current directory
# (output.dir is relative to it) and keeps no .hydra/ copy per run: the result JSONs record their config.
APP_OVERRIDES = ["hydra/job_logging=none", "hydra/hydra_logging=none", "hydra/help=run",
                 "hydra.output_subdir=null", "hydra.run.dir=.", "hydra.sweep.subdir=."]
GROUPS = ("model", "suite", "launcher")
OPTIONS = {  # the main keys `--help` lists, with this composition's value
    "tasks": "narrow the suite: tasks=SciFact or tasks=[A,B]",
    "langs": "narrow to languages (hf_subsets): langs=de or langs=[de,fr]",
    "data.root": "local data folder (null: every task loads from the Hugging Face hub)",
    "data.paths": "one task's local copy: data.paths.<Task>=DIR",
    "model.path": "local weights (null: the hub id model.name at model.revision)",
    "model.pipeline": "auto: a folder with modules.json as sentence-transformers encodes it | transformers",
    "protocol": "paper (the authors' prompts) | mteb (mteb's own prompts)",
    "output.dir": "where the result JSONs go",
    "output.overwrite": "recompute results that already exist",
    "cache.dir": "embedding cache (content-addressed; a rerun encodes nothing)",
    "shards": "corpus shards per retrieval task (encoded by the launcher's workers)",
    "batch_size": "texts per forward pass",
    "device": "auto | cpu | cuda | cuda:N",
    "top_k": "retrieval depth kept in the run files",
    "shard_dtype": "stored corpus vectors: auto (float16 for MIRACL / Mr.TyDi) | float32 | float16",
}


class _UserError(BaseException):
    """Carries a Me5EvalError out of the Hydra job: Hydra turns any Exception into its own multi-line report and
    exit 1; a BaseException passes through, and cli.main prints the error's one line and exits 2."""

    def __init__(self, error: Me5EvalError):
        super().__init__(str(error))
        self.error = error


def _help(section: str, _root_: DictConfig) -> str:
    """${me5_eval_help:groups|options} in evaluation/conf/hydra/help/run.yaml."""
    if section == "groups":
        chosen = _root_.hydra.runtime.choices
        return "\n".join(f"{g + ':':<10}{', '.join(group_choices(g))}   (now: {chosen.get(g)})" for g in GROUPS)
    values = {key: _yaml(OmegaConf.select(_root_, key, throw_on_missing=False)) for key in OPTIONS}
    lines = []
    for key, text in OPTIONS.items():
        setting = f"{key}={values[key]}"
        lines.append(f"{setting:<28}{text}" if len(setting) < 28 else f"{setting}\n{'':<28}{text}")
    return "\n".join(lines)


def _yaml(value: Any) -> str:
    """A value as it is written on the command line (null, true, [a, b])."""
    if isinstance(value, (DictConfig, ListConfig)):
        value = OmegaConf.to_container(value)
    return OmegaConf.to_yaml({"v": value}).strip()[3:].replace("\n", " ")


def _job(cfg: DictConfig) -> None:
    """One Hydra job: evaluate, then print the summary."""
    try:
        run_cfg: RunConfig = OmegaConf.to_object(cfg)
        results = run(run_cfg)  # probes output.dir / cache.dir before it hashes or loads anything
        print(summary(filed_config(run_cfg), results))  # the revision folder the results went to
    except Me5EvalError as err:
        raise _UserError(err) from err


def _validate(args: Any) -> None:
    """Compose every job now: a typo fails before Hydra starts (and before any job of a sweep ran)."""
    if args.help or args.hydra_help or args.info or args.shell_completion:
        return
    # --config-dir DIR (e.g. DIR/model/my-ckpt.yaml) joins the search path of the run; the same for this check
    search = [f"hydra.searchpath=[file://{Path(args.config_dir).resolve()}]"] if args.config_dir else []
    for job in sweep_jobs(args.overrides) if args.multirun else [args.overrides]:
        job = [*search, *job]
        if args.cfg:
            compose_dict(job)
        else:
            check_data_paths(compose_run_config(job))


def run_command(argv: list[str]) -> int:
    parser = get_args_parser()  # Hydra's own flags: --help, --cfg, --multirun, --info, ...
    parser.prog = "me5-eval run"
    args = parser.parse_intermixed_args(argv)  # flags anywhere: `run model=x --cfg job` as `run --cfg job model=x`
    args.overrides = normalise_overrides(args.overrides)
    _validate(args)
    args.overrides = [*APP_OVERRIDES, *args.overrides]
    if args.info:  # Hydra prints --info through a stdout handler of its own: ours would print every line twice
        logging.getLogger().handlers.clear()
    register_configs()
    if not OmegaConf.has_resolver("me5_eval_help"):
        OmegaConf.register_new_resolver("me5_eval_help", _help)
    try:
        _run_hydra(args=args, args_parser=parser, task_function=_job, config_path=str(conf_dir()),
                   config_name="config")
    except _UserError as wrapped:
        raise wrapped.error from None
    except SystemExit as done:  # Hydra exits after --help / --hydra-help, and with 1 after reporting an error
        return done.code if isinstance(done.code, int) else int(done.code is not None)
    return 0


def _rows(results: list, lands: list[Landing]) -> list[list[str]]:
    """One row per (task, subset, split) and published value; our score alone where none is published."""
    by_key: dict[tuple[str, str, str], list[Landing]] = {}
    for land in lands:
        by_key.setdefault((land.task, land.subset, land.split), []).append(land)
    rows = []
    for res in results:
        for split, entries in res.scores.items():
            for e in entries:
                key = (res.task_name, e["hf_subset"], split)
                ours = f"{100 * e['main_score']:.2f}"
                rows += [[*key, ours, "", "", ""]] if key not in by_key else [
                    [*key, f"{x.ours:.2f}" + ("" if x.metric == "main_score" else f" ({x.metric})"),
                     f"{x.published:.2f}", f"{x.delta:+.2f}", x.source] for x in by_key[key]]
    return rows


def summary(cfg: RunConfig, results: list) -> str:
    """Where the results went, each score next to the published one, and how many match."""
    settings = report_settings()
    lands = landings(cfg, results, settings)
    head = ["task", "subset", "split", "ours", "published", "delta", "source"]
    table = tabulate(_rows(results, lands), headers=head, tablefmt="github", disable_numparse=True,
                     colalign=("left", "left", "left", "right", "right", "right", "left"))
    files = f"{len(results)} task file" + ("s" if len(results) != 1 else "")
    lines = [table, "", f"results: {revision_dir(cfg.output.dir, cfg.model).resolve()}/ ({files})"]
    if not lands:
        lines.append(f"no published score for {cfg.model.name} (looked in {reference_dir(cfg, settings)} "
                     f"and {settings.paper_dir})")
        return "\n".join(lines)
    ok = [land for land in lands if land.matches]
    tolerances = sorted({land.tolerance for land in lands})
    tol = f"{tolerances[0]:g}" if len(tolerances) == 1 else f"{tolerances[0]:g}-{tolerances[-1]:g}"
    line = f"{len(ok)}/{len(lands)} match the published scores (tolerance {tol} points)"
    off = [land for land in lands if not land.matches]
    if off:
        line += "; off: " + ", ".join(f"{x.task}/{x.subset} {x.delta:+.2f} vs {x.source}" for x in off[:5])
    lines.append(line)
    return "\n".join(lines)
