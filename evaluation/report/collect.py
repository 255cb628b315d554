"""Read result folders in mteb's layout: <root>/<org__model>/<revision>/<Task>.json (+ model_meta.json).

Each file goes through mteb's own loader (`TaskResult.from_disk`, which also converts the pre-1.11
format); only when mteb rejects a file (custom task, hand-edited file) a tolerant reader takes over.
Bad input never stops the report: it becomes a `Problem`, and the rest is still read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Top-level keys of the old (pre-1.11) format that are not splits.
_META_KEYS = {"mteb_version", "mteb_dataset_name", "dataset_revision", "task_name", "evaluation_time",
              "kg_co2_emissions", "date", "me5_eval", "evaluation_phases"}
# NaN is reported only where the report reads it; mteb leaves NaN in unused metrics (e.g. `ap` of
# multi-class subsets) and listing those would bury the real problems.
USED_METRICS = ("main_score", "ndcg_at_10", "recall_at_100", "mrr_at_10", "f1")
CHOICE_RULE = "prefer non-external, then newest mteb_version, then most score entries, then revision name"


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

    @property
    def external(self) -> bool:
        return self.revision == "external"


@dataclass
class ModelRun:
    name: str  # unique display name within its source
    hub_id: str  # model_meta.json "name" (or the folder name with __ -> /)
    source: str  # "ours" | "reference"
    folder: Path
    tasks: dict[str, TaskFile] = field(default_factory=dict)
    choices: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    primary: bool = True  # False for the 2nd+ folder of a duplicate model name


@dataclass
class Collection:
    runs: list[ModelRun] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)  # every file read: path, sha256, bytes


def version_key(version: str | None) -> tuple[int, ...]:
    """'1.12.75' -> (1, 12, 75); None/garbage sorts first, so any real version wins."""
    nums = re.findall(r"\d+", version or "")
    return tuple(int(n) for n in nums[:3]) if nums else (-1,)


def _main_score_name(task: str) -> str | None:
    import mteb

    try:
        return mteb.get_task(task).metadata.main_score
    except Exception:  # unknown/custom task: no metadata to ask
        return None


def _tolerant(raw: dict[str, Any], path: Path) -> tuple[str, str | None, dict[str, list[dict]]]:
    """Both layouts: new {"scores": {split: [entry]}} and old {split: {subset: {metric}} | {metric}}."""
    name = raw.get("task_name") or raw.get("mteb_dataset_name") or path.stem
    if isinstance(raw.get("scores"), dict):
        scores = {s: [dict(e) for e in es if isinstance(e, dict)] for s, es in raw["scores"].items()}
    else:
        scores = {}
        for split, block in raw.items():
            if split in _META_KEYS or not isinstance(block, dict):
                continue
            subsets = {k: v for k, v in block.items() if isinstance(v, dict)}
            entries = [{"hf_subset": k, **v} for k, v in subsets.items()] or [{"hf_subset": "default", **block}]
            scores[split] = entries
    main = _main_score_name(name)
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


def read_task_file(path: Path, coll: Collection) -> TaskFile | None:
    """One <Task>.json -> TaskFile, or None (listed as a problem) when it cannot be used."""
    data = path.read_bytes()
    coll.files.append({"path": str(path), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
    try:
        raw = json.loads(data)  # Python's json accepts the bare NaN mteb writes
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        coll.problems.append(Problem("error", str(path), f"corrupt JSON ({e}); file skipped"))
        return None
    if not isinstance(raw, dict):
        coll.problems.append(Problem("error", str(path), "not a JSON object; file skipped"))
        return None
    try:
        from mteb import TaskResult

        tr = TaskResult.from_disk(path)
        name, version, scores, loader = tr.task_name, tr.mteb_version, tr.scores, "mteb"
    except Exception as e:  # mteb validates against its task registry; fall back, say so
        log.debug("TaskResult.from_disk(%s) failed: %s", path, e)
        name, version, scores = _tolerant(raw, path)
        loader = "tolerant"
    if bad := _nan_entries(scores):
        coll.problems.append(Problem("warning", str(path), "NaN scores (treated as missing): " + "; ".join(bad[:5])))
    return TaskFile(name, path.parent.name, path, version, scores, loader)


def _read_meta(rev_dir: Path, coll: Collection) -> dict[str, Any]:
    path = rev_dir / "model_meta.json"
    if not path.is_file():
        return {}
    data = path.read_bytes()
    coll.files.append({"path": str(path), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
    try:
        meta = json.loads(data)
        return meta if isinstance(meta, dict) else {}
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        coll.problems.append(Problem("warning", str(path), f"corrupt model_meta.json ({e}); folder name used"))
        return {}


def _choose(task: str, cands: list[TaskFile]) -> tuple[TaskFile, dict[str, Any] | None]:
    """Deterministic pick among revision folders holding the same task (see CHOICE_RULE)."""
    def key(tf: TaskFile):
        return (not tf.external, version_key(tf.mteb_version), sum(map(len, tf.scores.values())), tf.revision)

    best = max(cands, key=key)
    if len(cands) == 1:
        return best, None
    return best, {"task": task, "chosen": best.revision, "chosen_mteb_version": best.mteb_version,
                  "candidates": [f"{c.revision} (mteb {c.mteb_version})" for c in cands], "rule": CHOICE_RULE}


def read_model_folder(folder: Path, source: str, coll: Collection) -> ModelRun | None:
    cands: dict[str, list[TaskFile]] = {}
    metas: list[tuple[str, dict[str, Any]]] = []
    for rev_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = sorted(f for f in rev_dir.glob("*.json") if f.name != "model_meta.json")
        if not files:
            continue
        metas.append((rev_dir.name, _read_meta(rev_dir, coll)))
        for f in files:
            if tf := read_task_file(f, coll):
                cands.setdefault(tf.task, []).append(tf)
    if not metas:
        return None  # not a model folder (e.g. results/paper holds CSVs only)
    # The name comes from a real run's model_meta.json before an imported ("external") one.
    named = [m for rev, m in metas if m.get("name") and rev != "external"] or [m for _, m in metas if m.get("name")]
    meta = named[-1] if named else {}
    run = ModelRun(meta.get("name") or folder.name.replace("__", "/"), "", source, folder, meta=meta)
    run.hub_id = run.name
    for task in sorted(cands):
        run.tasks[task], choice = _choose(task, cands[task])
        if choice:
            run.choices.append(choice)
    _check_versions(run, coll)
    return run


def _check_versions(run: ModelRun, coll: Collection) -> None:
    """Scoring code changed across mteb major versions: say when one model mixes them."""
    by_major: dict[str, list[str]] = {}
    for tf in run.tasks.values():
        major = str(version_key(tf.mteb_version)[0]) if tf.mteb_version else "unknown"
        by_major.setdefault(major, []).append(tf.task)
    if len([m for m in by_major if m != "unknown"]) > 1:
        parts = [f"{m if m == 'unknown' else m + '.x'}: {len(ts)} tasks (e.g. {ts[0]})"
                 for m, ts in sorted(by_major.items())]
        coll.problems.append(Problem("warning", str(run.folder),
                                     f"mixed mteb versions for {run.name}: " + "; ".join(parts)))


def collect(roots: list[Path], source: str, coll: Collection | None = None) -> Collection:
    """Read every model folder under each root; duplicate model names are kept but flagged."""
    coll = coll or Collection()
    seen = {r.hub_id: r for r in coll.runs if r.source == source}
    for root in roots:
        if not root.is_dir():
            coll.problems.append(Problem("error", str(root), f"{source} results folder does not exist"))
            continue
        runs = [r for f in sorted(p for p in root.iterdir() if p.is_dir())
                if (r := read_model_folder(f, source, coll))]
        if not runs:
            coll.problems.append(Problem("warning", str(root), "no <org__model>/<revision>/<Task>.json found"))
        for run in runs:
            if first := seen.get(run.hub_id):
                run.name, run.primary = f"{run.hub_id} [{run.folder}]", False
                coll.problems.append(Problem(
                    "warning", str(run.folder),
                    f"duplicate model name {run.hub_id!r} (also {first.folder}); shown as {run.name!r}, "
                    "not compared with the paper"))
            else:
                seen[run.hub_id] = run
            coll.runs.append(run)
    return coll
