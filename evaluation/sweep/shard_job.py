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
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from filelock import Timeout

from evaluation.atomic import locked
from evaluation.config import RunConfig
from evaluation.data._files import iter_corpus_blocks
from evaluation.data.jsonl_corpus import corpus_count, read_corpus_window
from evaluation.data.types import Corpus, require_documents
from evaluation.encode import TextEmbedder, shard_embedder
from evaluation.errors import ConfigError, DataFileError, resource_errors
from evaluation.models.batching import prefetch
from evaluation.retrieval import check_retrieval_data, encode_documents, encode_shard, shard_key
from evaluation.shards import looks_stored, shard_paths
from evaluation.suites import TaskSpec, resolve_suite, retrieval_specs
from evaluation.sweep.receipts import item_receipt, shard_receipt
from evaluation.task_data import local_corpus_file, retrieval_subset
from evaluation.validation import probe_writable

log = logging.getLogger(__name__)


class ShardDocuments:
    """The documents of one (task, subset) a job needs: a local JSONL file (only the shard's window is read), or a
    corpus loaded whole (hub data, no local copy)."""

    def __init__(self, cfg: RunConfig, spec: TaskSpec, subset: str, hub_tasks: dict):
        local = local_corpus_file(cfg, spec, subset)
        self.corpus: Corpus | None = None
        if local is None:
            data = retrieval_subset(cfg, spec, subset, hub_tasks)
            check_retrieval_data(spec, subset, data)
            self.corpus, self.n_docs = data.corpus, len(data.corpus)
        else:
            self.path, self.id_key = local
            self.n_docs = corpus_count(self.path, cfg.cache.dir)
            require_documents(self.n_docs, f"{spec.name}/{subset} ({self.path})")

    def window(self, start: int, end: int) -> Corpus:
        """A Corpus (all ``n_docs`` positions) holding at least documents ``start..end``."""
        if self.corpus is not None:
            return self.corpus
        return read_corpus_window(self.path, self.id_key, self.n_docs, start, end)

    def blocks(self, start: int, end: int, rows: int) -> Iterator[Corpus]:
        """Documents ``start..end`` in blocks of ``rows``; from a file, read by a thread ahead of the encoder."""
        if self.corpus is not None:
            part = self.corpus.window(start, end)
            return (part.window(s, s + rows) for s in range(0, end - start, rows))
        return prefetch(lambda: self._read(start, end, rows), depth=2)

    def _read(self, start: int, end: int, rows: int) -> Iterator[Corpus]:
        read = 0
        for block in iter_corpus_blocks(self.path, self.id_key, start, end, rows=rows):
            read += len(block)
            yield block
        if read != end - start:
            raise DataFileError(self.path, None, f"has fewer documents than the {self.n_docs} counted before: "
                                                 "changed while running?")


def encode_item(emb: TextEmbedder, cfg: RunConfig, spec: TaskSpec, subset: str, docs: ShardDocuments,
                index: int) -> dict:
    """Make shard ``index`` of one (task, subset) corpus exist on disk; returns its receipt item."""
    root = Path(cfg.cache.dir)
    t0 = time.perf_counter()
    before = emb.encoder.forward_calls
    key = shard_key(emb, spec, subset, docs.n_docs, cfg.shards)
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
            if looks_stored(root, key, index):  # verify it against the docids (re-encoded if it does not verify)
                encode_shard(emb, spec, subset, docs.window(rng.start, rng.end), key, index, root)
            else:  # the file is read block by block while the model encodes
                encode_documents(emb, spec, subset, key, index, root, docs.blocks(rng.start, rng.end, key.block_rows))
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
            docs = ShardDocuments(cfg, spec, subset, hub_tasks)
            items.append(encode_item(emb, cfg, spec, subset, docs, cfg.shard_index))
            del docs
    encoder = emb.encoder
    # an unpinned hub model's fingerprint is known only once it is loaded
    fingerprint = emb.fingerprint if encoder.loaded or encoder.predicted else None
    return shard_receipt(cfg.shard_index, cfg.shards, items, encoder, fingerprint, started)
