"""The worker <-> driver contract: one receipt per finished sweep job, ``<sweep dir>/receipts/shard-NNNNN.json``.

A worker writes its receipt after every (task, subset) shard of its job is on disk; the driver reads them all after
the sweep, and a shard without a readable "ok" receipt counts as unfinished. Fields:

- ``status`` ("ok"), ``shard`` (this job's shard index), ``shards`` (the count);
- ``items``: one per (task, subset): ``task``, ``subset``, ``split``, ``key`` (the ShardKey digest), ``start``,
  ``end`` (the shard's document range), ``encoded`` (this job ran the model; false: the shard was found stored),
  ``seconds``, ``npy`` (the shard file);
- ``fingerprint``: the encoder's (None when an unpinned hub model was never loaded), which the driver compares with
  its own; ``device``, ``dtype``, ``host``, ``pid``, ``worker`` (the gpus launcher's process index),
  ``cuda_visible_devices``, ``slurm_job_id``, ``started``, ``finished``: where and when it ran.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

from evaluation.atomic import atomic_write_json

log = logging.getLogger(__name__)

RECEIPTS = "receipts"  # <sweep dir>/receipts/


def receipt_path(receipts_dir: Path, shard_index: int) -> Path:
    return Path(receipts_dir) / f"shard-{shard_index:05d}.json"


def item_receipt(task: str, subset: str, split: str, key_digest: str, start: int, end: int, *, encoded: bool,
                 seconds: float, npy: Path) -> dict[str, Any]:
    """What happened to one (task, subset) shard in this job."""
    return {"task": task, "subset": subset, "split": split, "key": key_digest, "start": start, "end": end,
            "encoded": encoded, "seconds": round(seconds, 3), "npy": str(npy)}


def shard_receipt(shard_index: int, shards: int, items: list[dict], encoder, fingerprint: str | None,
                  started: float) -> dict[str, Any]:
    """The receipt of a finished job: its items, and the encoder and process that produced them."""
    return {
        "status": "ok",
        "shard": shard_index,
        "shards": shards,
        "items": items,
        "fingerprint": fingerprint,
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


def write_receipt(receipts_dir: Path, receipt: dict[str, Any]) -> Path:
    path = receipt_path(receipts_dir, receipt["shard"])
    atomic_write_json(path, receipt)
    return path


def read_receipts(sweep_dir: Path) -> dict[int, dict]:
    """{shard index: receipt} of every readable receipt of the sweep."""
    out = {}
    for p in sorted(Path(sweep_dir, RECEIPTS).glob("shard-*.json")):
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            log.warning("receipt %s is unreadable (%s); its shard counts as unfinished", p, e)
            continue
        if isinstance(rec, dict) and isinstance(rec.get("shard"), int):
            out[rec["shard"]] = rec
        else:
            log.warning("receipt %s has no shard index; its shard counts as unfinished", p)
    return out


def encoded_items(receipts: dict[int, dict]) -> list[tuple[int, str, str]]:
    """(shard index, task, subset) of every item a worker encoded (not found stored), sorted."""
    return sorted((s, it["task"], it["subset"]) for s, r in receipts.items() for it in r["items"] if it["encoded"])
