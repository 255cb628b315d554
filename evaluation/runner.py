"""`me5-eval run`: config -> task specs -> (encode, search, score) per task -> result JSONs -> summary.

A task whose complete result already exists, produced by exactly this run's inputs (evaluation/identity.py), is
skipped (resume after a crash costs only unfinished tasks; retrieval corpora also resume per shard); a result of
other inputs is recomputed and kept under superseded/. Results are written only after scoring succeeded, atomically,
under the revision ``filed_config`` gives (local weights that are not the pinned checkpoint: local-<fingerprint>).
"""

from __future__ import annotations

import logging
import time

from evaluation.compose import compose_run_config
from evaluation.config import RunConfig
from evaluation.encode import lazy_embedder, resolved_config
from evaluation.identity import filed_config, result_identity
from evaluation.results import (
    provenance,
    result_is_complete,
    revision_dir,
    task_result_path,
    write_model_meta,
    write_task_result,
)
from evaluation.scoring import metric_depth
from evaluation.suites import TREC_SUITES, TaskSpec, fresh_task, resolve_suite, subtask_specs
from evaluation.sweep.driver import encode_shards_with_launcher
from evaluation.task_data import data_source
from evaluation.task_eval import TaskContext, evaluate_spec
from evaluation.validation import check_depth, check_writable

log = logging.getLogger(__name__)


def task_context(cfg: RunConfig) -> TaskContext:
    """The run's TaskContext; its encoder loads weights on the first forward pass, so a fully cached rerun
    (embeddings and shards stored) loads no model."""
    return TaskContext(cfg, lazy_embedder(cfg))


def run_spec(cfg: RunConfig, ctx: TaskContext, spec: TaskSpec):
    """Evaluate one task (or an aggregate's subtasks) and write its TaskResult; returns it (read back from disk
    when a complete result already exists)."""
    from mteb import TaskResult  # deferred: mteb is heavy (and loaded by then anyway)

    path = task_result_path(cfg.output.dir, cfg.model, spec.name)
    identity = _identity(cfg, ctx, spec)
    if not cfg.output.overwrite and result_is_complete(path, spec.split, spec.subsets, identity):
        log.info("%s: complete result of the same inputs exists at %s (output.overwrite=true recomputes)",
                 spec.name, path)
        return TaskResult.from_disk(path)
    subtasks = subtask_specs(spec)
    start = time.perf_counter()
    if subtasks is not None:  # CQADupstackRetrieval: mean of its 12 subforums, combined by mteb
        parts = [run_spec(cfg, ctx, sub) for sub in subtasks]
        result = fresh_task(spec.name).combine_task_results(parts)
    else:
        scores = evaluate_spec(ctx, spec)
        ctx.computed += 1
        result = TaskResult.from_task_results(fresh_task(spec.name), {spec.split: scores},
                                              evaluation_time=time.perf_counter() - start)
    write_task_result(path, result, _provenance(cfg, ctx, spec, identity))
    return result


def _identity(cfg: RunConfig, ctx: TaskContext, spec: TaskSpec) -> dict:
    enc = ctx.embedder.encoder  # an unpinned hub model loads here: its commit is part of the identity
    return result_identity(cfg, spec, enc.model_fingerprint(), str(enc.dtype))


def _provenance(cfg: RunConfig, ctx: TaskContext, spec: TaskSpec, identity: dict) -> dict:
    enc = ctx.embedder.encoder
    return provenance(cfg.model, protocol=cfg.protocol, dtype=str(enc.dtype).replace("torch.", ""),
                      device=str(enc.device), fingerprint=enc.model_fingerprint(),
                      data_source={spec.name: data_source(cfg, spec)}, identity=identity,
                      extra={"shards": cfg.shards, "top_k": cfg.top_k, "batch_size": cfg.batch_size,
                             "pipeline": cfg.model.pipeline, "pooling": cfg.model.pooling})


def run(cfg: RunConfig, embedder=None) -> list:
    """Evaluate cfg.model on the suite; ``embedder``: an in-memory model instead (evaluation/external.py)."""
    specs = resolve_suite(cfg.suite, cfg.tasks, cfg.langs)
    # before anything is read, hashed or loaded: the folders written (cache.dir also holds the weights' sha256 memo
    # and the corpus shards), and the depth MIRACL / Mr.TyDi are scored at
    check_writable(cfg, needs_cache=cfg.cache.enabled or any(s.is_retrieval for s in specs))
    check_depth(cfg.top_k, [(s.name, s.main_score, metric_depth(s.main_score)) for s in specs if s.name in TREC_SUITES])
    cfg = resolved_config(cfg) if embedder is None else cfg  # a sentence-transformers folder's own settings
    cfg = filed_config(cfg)
    if cfg.launcher_encodes_shards:
        encode_shards_with_launcher(cfg, specs)
    ctx = task_context(cfg) if embedder is None else TaskContext(cfg, embedder)
    results = []
    for i, spec in enumerate(specs, 1):
        log.info("task %d/%d: %s", i, len(specs), spec.name)
        results.append(run_spec(cfg, ctx, spec))
    if ctx.computed:
        write_model_meta(revision_dir(cfg.output.dir, cfg.model), cfg.model, ctx.embedder.encoder.dim)
    if ctx.deferred_errors:  # e.g. a run file that could not be written, after the scores were kept
        raise ctx.deferred_errors[0]
    return results


def run_from_overrides(overrides: list[str]) -> list:
    return run(compose_run_config(overrides))

