"""Resolve a suite config into concrete task specs (name, split, hf_subsets, type), narrowed by TASKS/LANGS.

Task metadata (type, subsets, main score) comes from mteb's registry, so a task name that mteb does not know
fails here, before any model is loaded. An aggregate task (CQADupstackRetrieval) expands to its subtasks
(``subtask_specs``); ``TREC_SUITES`` names the tasks that follow the authors' trec_eval protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from evaluation.compose import compose_dict
from evaluation.config import SuiteConfig, SuiteTask
from evaluation.errors import ConfigError

# MIRACL / Mr.TyDi follow the authors and trec_eval (TREC topics + qrels, `trec_eval -c -M 100`, the authors'
# title+text join); every other task follows mteb. Task name -> its metric set in evaluation/scoring.py
# (SUITE_METRICS; `me5-eval score --suite`), not a conf/suite/ config.
TREC_SUITES = {"MIRACLRetrieval": "miracl", "MrTidyRetrieval": "mrtydi"}


@dataclass(frozen=True)
class TaskSpec:
    """One task of a run: which split and hf_subsets to evaluate, and mteb's type and main score for it."""

    name: str
    split: str
    subsets: tuple[str, ...]
    task_type: str
    main_score: str

    @property
    def is_retrieval(self) -> bool:
        return self.task_type == "Retrieval"


@cache
def mteb_task(name: str):
    """mteb's task object, shared and cached: read its metadata only (``fresh_task`` for one that gets data)."""
    import mteb  # deferred: importing mteb takes seconds and `--help` should not pay for it

    try:
        return mteb.get_task(name)
    except KeyError as err:
        raise ConfigError(f"unknown task '{name}': mteb {mteb.__version__} has no such task") from err


def ignores_identical_ids(name: str) -> bool:
    """mteb's ``ignore_identical_ids`` of the task (ArguAna, Quora, FEVER, FiQA2018, MSMARCO, ...): its evaluator
    drops a retrieved document whose id equals the query's, and so do we."""
    return bool(getattr(mteb_task(name), "ignore_identical_ids", False))


def fresh_task(name: str):
    """A new mteb task object, not the cached one: attaching data mutates a task (``dataset``, ``hf_subsets``,
    ``data_loaded``), so every evaluation gets its own and ``mteb_task``'s stays metadata only."""
    import mteb  # deferred: see mteb_task

    return mteb.get_task(name)


def _load_suite_tasks(suite: SuiteConfig) -> list[SuiteTask]:
    tasks = list(suite.tasks)
    for included in suite.includes:
        sub = compose_dict([f"suite={included}"]).suite
        tasks += [SuiteTask(name=t.name, split=t.split, subsets=t.subsets) for t in sub.tasks]
    return tasks


def spec_for(task: SuiteTask) -> TaskSpec:
    meta = mteb_task(task.name).metadata
    all_subsets = list(mteb_task(task.name).hf_subsets)
    subsets = list(task.subsets) if task.subsets else all_subsets
    unknown = [s for s in subsets if s not in all_subsets]
    if unknown:
        raise ConfigError(f"{task.name} has no subset(s) {unknown}; valid: {', '.join(all_subsets)}")
    if task.split not in meta.eval_splits:
        raise ConfigError(f"{task.name} has no split '{task.split}'; valid: {', '.join(meta.eval_splits)}")
    return TaskSpec(task.name, task.split, tuple(subsets), meta.type, meta.main_score)


def resolve_suite(suite: SuiteConfig, tasks: list[str] | None = None, langs: list[str] | None = None) -> list[TaskSpec]:
    specs = [spec_for(t) for t in _load_suite_tasks(suite)]
    if tasks:
        names = [s.name for s in specs]
        unknown = [t for t in tasks if t not in names]
        if unknown:
            raise ConfigError(f"task(s) {unknown} not in suite '{suite.name}'; valid: {', '.join(names)}")
        specs = [s for s in specs if s.name in tasks]
    if langs:
        valid = sorted({sub for s in specs for sub in s.subsets if sub != "default"})
        unknown = [lang for lang in langs if lang not in valid]
        if unknown:
            raise ConfigError(
                f"language(s) {unknown} not in suite '{suite.name}'"
                + (f"; valid: {', '.join(valid)}" if valid else " (its tasks have no languages)")
            )
        narrowed = [(s, tuple(x for x in s.subsets if x in langs)) for s in specs]
        specs = [TaskSpec(s.name, s.split, subs, s.task_type, s.main_score) for s, subs in narrowed if subs]
    return specs


def subtask_specs(spec: TaskSpec) -> list[TaskSpec] | None:
    """The specs of an aggregate task's subtasks (CQADupstackRetrieval: its 12 subforums); None for a plain task."""
    task = mteb_task(spec.name)
    if not getattr(task, "is_aggregate", False):
        return None
    return [TaskSpec(t.metadata.name, spec.split, tuple(t.hf_subsets), t.metadata.type, t.metadata.main_score)
            for t in task.metadata.tasks]


def retrieval_specs(specs: list[TaskSpec]) -> list[TaskSpec]:
    """The retrieval tasks among ``specs``, aggregates expanded to their subtasks: the corpora a run encodes."""
    out = []
    for spec in specs:
        subs = subtask_specs(spec)
        out += [s for s in (subs if subs is not None else [spec]) if s.is_retrieval]
    return out
