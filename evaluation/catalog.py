"""What `me5-eval tasks | models | suites` list: the configs in evaluation/conf/, resolved against mteb's registry.

Nothing is loaded but configs and mteb's task metadata (no model, no data beyond checking that a local copy
exists), so the lists are quick and work offline.
"""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import OmegaConf

from evaluation.compose import compose_dict, compose_run_config, group_choices
from evaluation.config import RunConfig
from evaluation.data.registry import local_files
from evaluation.suites import TaskSpec, resolve_suite
from evaluation.task_data import local_root

PROTOCOLS = {  # model.prompt_style -> what the encoder does with the texts (evaluation/models/prompts.py)
    "query_passage": '"query: " / "passage: " prefixes',
    "instruction": "task instruction on queries",
    "none": "no prefixes",
}


@dataclass(frozen=True)
class TaskRow:
    task: str
    type: str
    split: str
    subsets: int
    main_score: str
    local: str  # "yes": local files under data.root (or data.paths) replace the hub; "no"; or what is local


@dataclass(frozen=True)
class ModelRow:
    config: str
    checkpoint: str  # hub id, or what the user sets (model=custom)
    weights: str  # "hub" or the local dir
    revision: str | None
    dim: int | None
    protocol: str


@dataclass(frozen=True)
class SuiteRow:
    name: str
    tasks: int
    subsets: int
    description: str


def local_data(cfg: RunConfig, spec: TaskSpec) -> str:
    """Whether `run` reads the task from local files; MIRACL / Mr.TyDi ship topics + qrels without the corpus."""
    root, override = local_root(cfg, spec.name)
    if root is None:
        return "no"
    if spec.is_retrieval:
        corpora = [local_files(spec.name, sub, spec.split, root, override, optional_ok=True).get("corpus")
                   for sub in spec.subsets]
        if not any(corpora):
            return "topics + qrels (corpus: data.paths or hub)"
    return "yes"


def task_rows(cfg: RunConfig) -> list[TaskRow]:
    return [TaskRow(s.name, s.task_type, s.split, len(s.subsets), s.main_score, local_data(cfg, s))
            for s in resolve_suite(cfg.suite, cfg.tasks, cfg.langs)]


def model_rows() -> list[ModelRow]:
    rows = []
    for name in group_choices("model"):
        model = compose_dict([f"model={name}"]).model
        m = {key: f"(set model.{key})" if OmegaConf.is_missing(model, key) else model[key]  # `custom`: ???
             for key in ("name", "path", "revision", "dim", "pooling", "prompt_style")}
        protocol = PROTOCOLS.get(m["prompt_style"], m["prompt_style"])
        rows.append(ModelRow(name, m["name"], m["path"] or "hub", m["revision"], m["dim"],
                             f"{m['pooling']} pooling, {protocol}"))
    return rows


def suite_rows() -> list[SuiteRow]:
    rows = []
    for name in group_choices("suite"):
        suite = compose_run_config([f"suite={name}"]).suite
        specs = resolve_suite(suite)
        rows.append(SuiteRow(name, len(specs), sum(len(s.subsets) for s in specs), suite.description))
    return rows
