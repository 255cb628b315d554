"""Evaluate one task spec -> {hf_subset: mteb scores dict}, writing run files and per-item details.

Retrieval runs through our pipeline (evaluation/retrieval.py: shards, exact search, trec_eval / mteb metrics);
every other task type goes through mteb's own evaluator, fed our local data and encoded by our ``MtebEncoder``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evaluation.config import RunConfig
from evaluation.encode import TextEmbedder
from evaluation.per_item import write_per_items
from evaluation.results import details_dir, write_per_item
from evaluation.retrieval import retrieve, score_retrieval, search_depth
from evaluation.suites import TaskSpec
from evaluation.task_data import retrieval_subset, task_with_data
from evaluation.trec_io import RunIdError, write_run


@dataclass
class TaskContext:
    cfg: RunConfig
    embedder: TextEmbedder
    computed: int = 0  # tasks scored in this run (not skipped as complete)
    deferred_errors: list[Exception] = field(default_factory=list)  # raised once every result is written

    @property
    def shard_root(self) -> Path:
        return Path(self.cfg.cache.dir)

    def details(self, spec: TaskSpec) -> Path:
        return details_dir(self.cfg.output.dir, self.cfg.model, spec.name, spec.split)


def evaluate_retrieval(ctx: TaskContext, spec: TaskSpec) -> dict[str, dict]:
    cfg, scores, hub_tasks = ctx.cfg, {}, {}
    for subset in spec.subsets:
        # launcher workers encoded every shard: this process needs the docids, not ~30 GB of MIRACL-en text
        data = retrieval_subset(cfg, spec, subset, hub_tasks, lazy_corpus=cfg.launcher_encodes_shards)
        run = retrieve(ctx.embedder, spec, subset, data, n_shards=cfg.shards, shard_root=ctx.shard_root,
                       top_k=cfg.top_k, chunk_bytes=cfg.search_chunk_mb << 20)
        subset_scores, per_query = score_retrieval(spec, run, data.qrels, search_depth(spec, cfg.top_k))
        out = ctx.details(spec)
        try:
            write_run(out / f"{subset}.run.trec", run, tag=cfg.model.name.replace(" ", "_"), depth=cfg.top_k)
        except RunIdError as e:  # the scores are right: the runner writes the result JSON, then raises this
            ctx.deferred_errors.append(e)
        write_per_item(out / f"{subset}.per_item.jsonl", per_query)
        scores[subset] = {**subset_scores, "main_score": subset_scores[spec.main_score]}  # as mteb's _add_main_score
    return scores


def evaluate_with_mteb(ctx: TaskContext, spec: TaskSpec) -> dict[str, dict]:
    """Non-retrieval task types go through mteb's evaluator, fed our local data when we have it."""
    task = task_with_data(ctx.cfg, spec)
    encoder = ctx.embedder.mteb_encoder()  # ours over the TextEmbedder, or an in-memory model as it is
    out = ctx.details(spec)
    scores = task.evaluate(encoder, spec.split, subsets_to_run=list(spec.subsets),
                           encode_kwargs={"batch_size": ctx.cfg.batch_size}, prediction_folder=out)
    write_per_items(task, out / task.prediction_file_name, out, spec.split)
    return dict(scores)


def evaluate_spec(ctx: TaskContext, spec: TaskSpec) -> dict[str, dict]:
    return evaluate_retrieval(ctx, spec) if spec.is_retrieval else evaluate_with_mteb(ctx, spec)
