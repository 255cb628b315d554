"""Read one mteb result JSON (`<Task>.json`) into a TaskFile, or list why it cannot be used.

Each file goes through mteb's own loader (`TaskResult.from_disk`, which also converts the pre-1.11 format); only
when mteb rejects a file (custom task, hand-edited file) a tolerant reader takes over. Bad input never stops the
report: it becomes a `Problem`, and the rest is still read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluation.errors import ConfigError
from evaluation.suites import mteb_task

log = logging.getLogger(__name__)

# Top-level keys of the old (pre-1.11) format that are not splits.
_META_KEYS = {"mteb_version", "mteb_dataset_name", "dataset_revision", "task_name", "evaluation_time",
              "kg_co2_emissions", "date", "me5_eval", "evaluation_phases"}
# NaN is reported only where the report reads it; mteb leaves NaN in unused metrics (e.g. `ap` of
# multi-class subsets) and listing those would bury the real problems.
USED_METRICS = ("main_score", "ndcg_at_10", "recall_at_100", "mrr_at_10", "f1")
PROVENANCE_KEY = "me5_eval"  # our provenance block inside an mteb result JSON (mteb ignores unknown keys)


@dataclass
class Problem:
    severity: str  # "error" (input unusable) | "warning" (used, but read the caveat)
    where: str
    what: str


@dataclass
class TaskFile:
    task: str
    revision: str
    path: Path
    mteb_version: str | None
    scores: dict[str, list[dict[str, Any]]]
    loader: str  # "mteb" = TaskResult.from_disk, "tolerant" = our fallback reader
    provenance: dict[str, Any] = field(default_factory=dict)  # the `me5_eval` block (empty for other tools)

    @property
    def external(self) -> bool:
        return self.revision == "external"


def main_score_name(task: str) -> str | None:
    """The task's main metric from mteb's registry; None for a task mteb does not know (custom task)."""
    try:
        return mteb_task(task).metadata.main_score
    except ConfigError:
        return None


def _tolerant(raw: dict[str, Any], path: Path) -> tuple[str, str | None, dict[str, list[dict]]]:
    """Both layouts: new {"scores": {split: [entry]}} and old {split: {subset: {metric}} | {metric}}."""
    name = raw.get("task_name") or raw.get("mteb_dataset_name") or path.stem
    if isinstance(raw.get("scores"), dict):
        scores = {s: [dict(e) for e in es if isinstance(e, dict)] for s, es in raw["scores"].items()
                  if isinstance(es, list)}
    else:
        scores = {}
        for split, block in raw.items():
            if split in _META_KEYS or not isinstance(block, dict):
                continue
            subsets = {k: v for k, v in block.items() if isinstance(v, dict)}
            entries = [{"hf_subset": k, **v} for k, v in subsets.items()] or [{"hf_subset": "default", **block}]
            scores[split] = entries
    main = main_score_name(name)
    for entries in scores.values():
        for e in entries:
            e.setdefault("hf_subset", "default")
            if "main_score" not in e and main in e:
                e["main_score"] = e[main]
    return name, raw.get("mteb_version"), scores


def _nan_entries(scores: dict[str, list[dict]]) -> list[str]:
    bad = []
    for split, entries in scores.items():
        for e in entries:
            keys = [k for k in USED_METRICS if isinstance(e.get(k), float) and math.isnan(e[k])]
            if keys:
                bad.append(f"{split}/{e.get('hf_subset')}: {', '.join(keys)}")
    return bad


def _has_numbers(scores: dict[str, list[dict]]) -> bool:
    return any(isinstance(v, (int, float)) and not isinstance(v, bool)
               for entries in scores.values() for e in entries for k, v in e.items() if k != "hf_subset")


def _parse(path: Path, data: bytes, problems: list[Problem]) -> dict[str, Any] | None:
    try:
        raw = json.loads(data)  # Python's json accepts the bare NaN mteb writes
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        problems.append(Problem("error", str(path), f"corrupt JSON ({e}); file skipped"))
        return None
    if not isinstance(raw, dict):
        problems.append(Problem("error", str(path), f"not an mteb result (a JSON {type(raw).__name__}, "
                                                    "expected an object with 'scores'); file skipped"))
        return None
    return raw


def read_task_file(path: Path, problems: list[Problem], files: list[dict[str, Any]]) -> TaskFile | None:
    """One <Task>.json -> TaskFile, or None (listed in `problems`) when it cannot be used; `files` records
    every file read with its sha256."""
    try:
        data = path.read_bytes()
    except OSError as e:
        problems.append(Problem("error", str(path), f"unreadable ({e.strerror or e}); file skipped"))
        return None
    files.append({"path": str(path), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
    if (raw := _parse(path, data, problems)) is None:
        return None
    try:
        from mteb import TaskResult  # deferred: importing mteb takes seconds

        tr = TaskResult.from_disk(path)
        name, version, scores, loader = tr.task_name, tr.mteb_version, tr.scores, "mteb"
    except Exception as e:  # mteb validates against its task registry (pydantic, KeyError, ...): fall back
        log.debug("TaskResult.from_disk(%s) failed (%s); using the tolerant reader", path, e)
        name, version, scores = _tolerant(raw, path)
        loader = "tolerant"
    if not _has_numbers(scores):
        problems.append(Problem("error", str(path), "valid JSON but not an mteb result (no scores); file skipped"))
        return None
    if bad := _nan_entries(scores):
        problems.append(Problem("warning", str(path), "NaN scores (treated as missing): " + "; ".join(bad[:5])))
    prov = raw.get(PROVENANCE_KEY) if isinstance(raw.get(PROVENANCE_KEY), dict) else {}
    return TaskFile(name, path.parent.name, path, version, scores, loader, prov)
