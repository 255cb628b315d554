"""The shard worker: encodes corpus shard ``shard`` of every retrieval task x subset of the run's suite.

It is a Hydra app, so any Hydra launcher can sweep it over ``shard=0..N-1``::

    python -m evaluation.worker --multirun model=large suite=miracl shards=64 'shard=range(0,64)' \\
        hydra/launcher=submitit_slurm hydra.launcher.partition=gpu ...
    me5-eval worker model=minilm suite=mteb-en 'tasks=[SciFact]' shards=4 shard=2 data.root=...   # one shard

``me5-eval run ... launcher=slurm|ray|joblib|gpus`` builds that command itself (evaluation/launch.py).

A worker reads only its shard of a local JSONL corpus (BEIR, MIRACL, Mr.TyDi): documents ``start..end`` of the
shard plan, parsed exactly as the loaders parse them, so its memory and parsing cost follow the shard size, not the
corpus (MIRACL-en: 32.9M passages). The corpus size comes from one line count per file, remembered in
``<cache.dir>/corpus-counts/``. Hub data (no local copy) is loaded whole.

A shard already stored and verified (``load_shard``: manifest, docids, size, sha256) is not recomputed, and a worker
whose shards are all stored never loads the model. Two workers never encode the same shard at once: each holds the
shard's ``.encode`` lock while it checks and encodes (a second one waits, then finds the shard stored); the shard
files themselves are written atomically under their own lock (evaluation/shards.py). After its job the worker writes
a receipt ``<sweep dir>/receipts/shard-NNNNN.json`` (what it found stored, what it encoded, device, fingerprint),
which the driver checks.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from pathlib import Path

import hydra
import torch
from filelock import Timeout
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from evaluation.atomic import atomic_write_json, locked
from evaluation.compose import conf_dir, normalise_override
from evaluation.config import RunConfig, register_configs
from evaluation.data.jsonl_corpus import corpus_count, read_corpus_window
from evaluation.data.types import require_documents
from evaluation.encode import shard_embedder
from evaluation.errors import ConfigError, resource_errors
from evaluation.launch import RECEIPTS, receipt_path, register_gpus_launcher
from evaluation.retrieval import check_retrieval_data, encode_shard, shard_key
from evaluation.shards import shard_paths, shard_plan
from evaluation.suites import resolve_suite, retrieval_specs
from evaluation.task_data import local_corpus_file, retrieval_subset

log = logging.getLogger("evaluation.worker")

register_configs()
register_gpus_launcher()


def shard_corpus(cfg: RunConfig, spec, subset: str, hub_tasks: dict):
    """The corpus the worker needs for its shard: a window read from a local JSONL file, else the full corpus."""
    local = local_corpus_file(cfg, spec, subset)
    if local is not None:
        path, id_key = local
        n_docs = corpus_count(path, cfg.cache.dir)
        require_documents(n_docs, f"{spec.name}/{subset} ({path})")
        rng = shard_plan(n_docs, cfg.shards)[cfg.shard]
        return read_corpus_window(path, id_key, n_docs, rng.start, rng.end)
    data = retrieval_subset(cfg, spec, subset, hub_tasks)
    check_retrieval_data(spec, subset, data)
    return data.corpus


def encode_item(emb, cfg: RunConfig, spec, subset: str, corpus, index: int) -> dict:
    """Make shard ``index`` of one (task, subset) corpus exist on disk; returns what happened."""
    root = Path(cfg.cache.dir)
    t0 = time.perf_counter()
    before = emb.encoder.forward_calls
    key = shard_key(emb, spec, subset, len(corpus), cfg.shards)
    rng = key.range(index)
    paths = shard_paths(root, key, index)
    gb = rng.size * (emb.cfg.model.dim or 1024) * 2 / 1e9
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
    return {"task": spec.name, "subset": subset, "split": spec.split, "key": key.digest(), "start": rng.start,
            "end": rng.end, "encoded": emb.encoder.forward_calls > before,
            "seconds": round(time.perf_counter() - t0, 3), "npy": str(paths.npy)}


def encode_worker_shard(cfg: RunConfig) -> dict:
    """Encode shard ``cfg.shard`` of every retrieval corpus in the run; returns the receipt (status ok)."""
    if cfg.shard is None or not 0 <= cfg.shard < cfg.shards:
        raise ConfigError(f"shard={cfg.shard} must be one of 0..{cfg.shards - 1} (shards={cfg.shards})")
    threads = os.environ.get("ME5_EVAL_TORCH_THREADS")
    if threads:
        torch.set_num_threads(int(threads))
    started = time.time()
    emb = shard_embedder(cfg)
    hub_tasks: dict = {}
    items = []
    for spec in retrieval_specs(resolve_suite(cfg.suite, cfg.tasks, cfg.langs)):
        for subset in spec.subsets:
            corpus = shard_corpus(cfg, spec, subset, hub_tasks)
            items.append(encode_item(emb, cfg, spec, subset, corpus, cfg.shard))
            del corpus
    encoder = emb.encoder
    return {
        "status": "ok",
        "shard": cfg.shard,
        "shards": cfg.shards,
        "items": items,
        # an unpinned hub model's fingerprint is known only once it is loaded
        "fingerprint": emb.fingerprint if encoder.loaded or encoder.predicted else None,
        "device": str(encoder.device),
        "dtype": str(encoder.dtype).removeprefix("torch."),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "worker": os.environ.get("ME5_EVAL_WORKER"),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "started": started,
        "finished": time.time(),
    }


def _receipts_dir() -> Path | None:
    try:
        hc = HydraConfig.get()
    except ValueError:
        return None
    if hc.mode == RunMode.MULTIRUN:
        return Path(hc.sweep.dir) / RECEIPTS
    return Path(hc.runtime.output_dir) / RECEIPTS


@hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name="config")
def main(cfg: DictConfig) -> dict:
    run_cfg: RunConfig = OmegaConf.to_object(cfg)
    receipt = encode_worker_shard(run_cfg)
    out = _receipts_dir()
    if out is not None:
        atomic_write_json(receipt_path(out, run_cfg.shard), receipt)
    log.info("shard %d/%d done: %d item(s), %d encoded now", run_cfg.shard + 1, run_cfg.shards,
             len(receipt["items"]), sum(it["encoded"] for it in receipt["items"]))
    return receipt


def _cli_args(argv: list[str]) -> list[str]:
    """Command-line overrides as `me5-eval run` takes them (`data.paths.<Task>=DIR` without `++`)."""
    return [normalise_override(a) if "=" in a and not a.startswith("-") else a for a in argv]


def worker_main(argv: list[str]) -> int:
    """`me5-eval worker [--multirun] OVERRIDES`: the same app under the CLI."""
    sys.argv = ["me5-eval worker", *_cli_args(argv)]
    main()
    return 0


if __name__ == "__main__":
    # Run the module's importable copy, not __main__'s: Ray/submitit/the gpus launcher then pickle the task
    # function's helpers by reference (evaluation.worker.*) instead of by value.
    from evaluation.worker import _cli_args
    from evaluation.worker import main as _importable_main

    sys.argv[1:] = _cli_args(sys.argv[1:])
    _importable_main()
