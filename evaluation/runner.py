"""`me5-eval run`: config -> task specs -> (encode, search, score) per task -> result JSONs -> summary.

A task whose complete result already exists is skipped (resume after a crash costs only unfinished tasks;
retrieval corpora also resume per shard). Results are written only after scoring succeeded, atomically.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from tabulate import tabulate

from evaluation.compose import compose_run_config
from evaluation.config import RunConfig
from evaluation.results import (
    provenance,
    result_is_complete,
    revision_dir,
    task_result_path,
    write_model_meta,
    write_task_result,
)
from evaluation.suites import TaskSpec, mteb_task, resolve_suite
from evaluation.task_data import data_source

log = logging.getLogger(__name__)


class LazyContext:
    """Loads the model only when some task actually needs computing (a fully cached rerun loads nothing)."""

    def __init__(self, cfg: RunConfig):
        self.cfg, self._ctx = cfg, None

    def get(self):
        if self._ctx is None:
            from evaluation.cache import EmbeddingCache
            from evaluation.encode import TextEmbedder
            from evaluation.models.loading import load_encoder
            from evaluation.task_eval import TaskContext

            encoder = load_encoder(self.cfg.model, device=self.cfg.device, protocol=self.cfg.protocol)
            cache = EmbeddingCache(self.cfg.cache.dir, "texts") if self.cfg.cache.enabled else None
            self._ctx = TaskContext(self.cfg, TextEmbedder(self.cfg, encoder, cache))
        return self._ctx


def _subtask_specs(spec: TaskSpec) -> list[TaskSpec] | None:
    task = mteb_task(spec.name)
    if not getattr(task, "is_aggregate", False):
        return None
    return [TaskSpec(t.metadata.name, spec.split, tuple(t.hf_subsets), t.metadata.type, t.metadata.main_score)
            for t in task.metadata.tasks]


def run_spec(cfg: RunConfig, lazy: LazyContext, spec: TaskSpec):
    """Evaluate one task (or an aggregate's subtasks) and write its TaskResult; returns it (or None if skipped)."""
    from mteb import TaskResult

    from evaluation.task_eval import evaluate_spec, fresh_task

    path = task_result_path(cfg.output.dir, cfg.model, spec.name)
    if not cfg.output.overwrite and result_is_complete(path, spec.split, spec.subsets):
        log.info("%s: complete result exists at %s (output.overwrite=true recomputes)", spec.name, path)
        return TaskResult.from_disk(path)
    subtasks = _subtask_specs(spec)
    start = time.perf_counter()
    if subtasks is not None:  # CQADupstackRetrieval: mean of its 12 subforums, combined by mteb
        parts = [run_spec(cfg, lazy, sub) for sub in subtasks]
        result = fresh_task(spec.name).combine_task_results(parts)
    else:
        ctx = lazy.get()
        scores = evaluate_spec(ctx, spec)
        result = TaskResult.from_task_results(fresh_task(spec.name), {spec.split: scores},
                                              evaluation_time=time.perf_counter() - start)
    write_task_result(path, result, _provenance(cfg, lazy, spec))
    return result


def _provenance(cfg: RunConfig, lazy: LazyContext, spec: TaskSpec) -> dict:
    enc = lazy.get().embedder.encoder
    return provenance(cfg.model, protocol=cfg.protocol, dtype=str(enc.dtype).replace("torch.", ""),
                      device=str(enc.device), fingerprint=enc.model_fingerprint(),
                      data_source={spec.name: data_source(cfg, spec)},
                      extra={"shards": cfg.shards, "top_k": cfg.top_k, "batch_size": cfg.batch_size})


def summary_table(results: list) -> str:
    rows = []
    for res in results:
        for split, entries in res.scores.items():
            for e in entries:
                rows.append([res.task_name, e["hf_subset"], split, f"{100 * e['main_score']:.2f}"])
    return tabulate(rows, headers=["task", "subset", "split", "main score x100"], tablefmt="github")


def run(cfg: RunConfig) -> list:
    specs = resolve_suite(cfg.suite, cfg.tasks, cfg.langs)
    if cfg.launcher.hydra_launcher and cfg.shards > 1:
        from evaluation.launch import encode_shards_with_launcher

        encode_shards_with_launcher(cfg, specs)
    lazy = LazyContext(cfg)
    results = [run_spec(cfg, lazy, spec) for spec in specs]
    if lazy._ctx is not None:
        write_model_meta(revision_dir(cfg.output.dir, cfg.model), cfg.model, lazy.get().embedder.encoder.dim)
    print(summary_table(results))
    return results


def run_from_overrides(overrides: list[str]) -> list:
    return run(compose_run_config(overrides))


def with_overrides(cfg: RunConfig, **changes) -> RunConfig:
    return replace(cfg, **changes)
