"""One job of a shard sweep: make corpus shard ``shard_index`` of every pending retrieval (task, subset) exist on disk.

A job reads only its shard of a local JSONL corpus (evaluation/data/jsonl_corpus.py); hub data (no local copy) is
loaded whole. A shard already stored and verified (``load_shard``: manifest, docids, size, sha256) is not recomputed,
and a job whose shards are all stored never loads the model. Two jobs never encode the same shard at once: each holds
the shard's ``.encode`` lock while it checks and encodes (a second one waits, then finds the shard stored); the shard
files themselves are written atomically under their own lock (evaluation/shards.py). The job returns its receipt
(evaluation/sweep/receipts.py), which the worker app writes for the driver.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np
import torch
from filelock import Timeout

from evaluation.atomic import locked
from evaluation.config import RunConfig
from evaluation.data.jsonl_corpus import corpus_count, read_corpus_window
from evaluation.data.types import Corpus, require_documents
from evaluation.encode import TextEmbedder, shard_embedder
from evaluation.errors import ConfigError, resource_errors
from evaluation.retrieval import check_retrieval_data, encode_shard, shard_key
from evaluation.shards import shard_paths, shard_plan
from evaluation.suites import TaskSpec, resolve_suite, retrieval_specs
from evaluation.sweep.receipts import item_receipt, shard_receipt
from evaluation.task_data import local_corpus_file, retrieval_subset
from evaluation.validation import probe_writable

log = logging.getLogger(__name__)


def shard_corpus(cfg: RunConfig, spec: TaskSpec, subset: str, hub_tasks: dict) -> Corpus:
    """The corpus the job needs for its shard: a window read from a local JSONL file, else the full corpus."""
    local = local_corpus_file(cfg, spec, subset)
    if local is not None:
        path, id_key = local
        n_docs = corpus_count(path, cfg.cache.dir)
        require_documents(n_docs, f"{spec.name}/{subset} ({path})")
        rng = shard_plan(n_docs, cfg.shards, cfg.block_rows)[cfg.shard_index]
        return read_corpus_window(path, id_key, n_docs, rng.start, rng.end)
    data = retrieval_subset(cfg, spec, subset, hub_tasks)
    check_retrieval_data(spec, subset, data)
    return data.corpus


def encode_item(emb: TextEmbedder, cfg: RunConfig, spec: TaskSpec, subset: str, corpus: Corpus, index: int) -> dict:
    """Make shard ``index`` of one (task, subset) corpus exist on disk; returns its receipt item."""
    root = Path(cfg.cache.dir)
    t0 = time.perf_counter()
    before = emb.encoder.forward_calls
    key = shard_key(emb, spec, subset, len(corpus), cfg.shards)
    rng = key.range(index)
    paths = shard_paths(root, key, index)
    gb = rng.size * (emb.cfg.model.dim or 1024) * np.dtype(key.dtype).itemsize / 1e9
    what = f"encoding {spec.name}/{subset} shard {index + 1}/{cfg.shards} ({rng.size} docs)"
    # One encoder per shard at a time, across processes and hosts: a second worker (a duplicate Slurm task,
    # a concurrent rerun) waits here and then finds the shard stored instead of encoding it again.
    claim = locked(paths.npy.with_suffix(".encode"))
    try:
        claim.acquire(timeout=0)
    except Timeout:
        log.info("%s/%s shard %d/%d is being encoded by another worker; waiting for it", spec.name, subset,
                 index + 1, cfg.shards)
        claim.acquire()
    try:
        with resource_errors(cfg, what, gb):
            encode_shard(emb, spec, subset, corpus, key, index, root)
    finally:
        claim.release()
    return item_receipt(spec.name, subset, spec.split, key.digest(), rng.start, rng.end,
                        encoded=emb.encoder.forward_calls > before, seconds=time.perf_counter() - t0, npy=paths.npy)


def encode_worker_shard(cfg: RunConfig) -> dict:
    """Encode shard ``cfg.shard_index`` of every retrieval corpus in the run; returns the receipt (status ok)."""
    if cfg.shard_index is None or not 0 <= cfg.shard_index < cfg.shards:
        raise ConfigError(f"shard_index={cfg.shard_index} must be one of 0..{cfg.shards - 1} (shards={cfg.shards})")
    probe_writable(cfg.cache.dir, "cache.dir")  # where the shards go: a node that cannot write it fails before loading
    threads = os.environ.get("ME5_EVAL_TORCH_THREADS")  # set by the gpus launcher on CPU: cores per worker process
    if threads:
        torch.set_num_threads(int(threads))
    started = time.time()
    emb = shard_embedder(cfg)
    hub_tasks: dict = {}
    items = []
    for spec in retrieval_specs(resolve_suite(cfg.suite, cfg.tasks, cfg.langs)):
        for subset in spec.subsets:
            corpus = shard_corpus(cfg, spec, subset, hub_tasks)
            items.append(encode_item(emb, cfg, spec, subset, corpus, cfg.shard_index))
            del corpus
    encoder = emb.encoder
    # an unpinned hub model's fingerprint is known only once it is loaded
    fingerprint = emb.fingerprint if encoder.loaded or encoder.predicted else None
    return shard_receipt(cfg.shard_index, cfg.shards, items, encoder, fingerprint, started)
