"""Read result folders in mteb's layout: <root>/<org__model>/<revision>/<Task>.json (+ model_meta.json).

A path given by the user may be a results root, one model folder (`<org__model>`) or one revision folder; see
`folder_kind`. Revision folders whose results declare `me5_eval.reference_model` (local, quantised or fine-tuned
weights: a *variant* of a published checkpoint), and `local-<fingerprint>` folders (where `me5-eval run` files local
weights that are not the checkpoint its config pins, evaluation/identity.py), become their own run, never merged
with the official one. A revision folder's `details/` and `superseded/` (replaced results) are not results.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluation.errors import ConfigError, DataError
from evaluation.report.result_file import Problem, TaskFile, read_task_file

CHOICE_RULE = "prefer non-external, then newest mteb_version, then most score entries, then revision name"
DEFAULT_VARIANT = "local weights"  # how a variant is described when its results do not say (`me5_eval.variant`)
LOCAL_REVISION = "local-"  # evaluation/identity.py LOCAL_PREFIX: results of local weights, never the checkpoint's
_NOT_RUNS = {"details", "superseded"}  # inside a revision folder: per-item files, replaced results (results.py)


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
    variant: str | None = None  # set for a variant of a published checkpoint: what differs (e.g. "4-bit weights")
    reference_model: str | None = None  # the published checkpoint a variant stands for


@dataclass
class Collection:
    runs: list[ModelRun] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)  # every file read: path, sha256, bytes


@dataclass
class _Revision:
    name: str
    meta: dict[str, Any]
    files: list[TaskFile]


def version_key(version: str | None) -> tuple[int, ...]:
    """'1.12.75' -> (1, 12, 75); None/garbage sorts first, so any real version wins."""
    nums = re.findall(r"\d+", version or "")
    return tuple(int(n) for n in nums[:3]) if nums else (-1,)


def _task_jsons(folder: Path) -> list[Path]:
    return sorted(f for f in folder.glob("*.json") if f.name != "model_meta.json" and f.is_file())


def _subdirs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir() and p.name not in _NOT_RUNS)


def folder_kind(path: Path) -> str:
    """'root' (holds <org__model>/<revision>/<Task>.json), 'model' (holds <revision>/<Task>.json), 'revision'
    (holds <Task>.json), or 'empty' when none of these layouts holds a result file."""
    subdirs = _subdirs(path)
    if any(_task_jsons(r) for d in subdirs for r in _subdirs(d)):
        return "root"
    if any(_task_jsons(d) for d in subdirs):
        return "model"
    return "revision" if _task_jsons(path) else "empty"


def require_folder(path: Path, what: str = "results folder") -> Path:
    """A user-given folder must exist and be a folder: one clear error otherwise (a typo must not pass)."""
    if not path.exists():
        raise ConfigError(f"{what} {path} does not exist; pass the folder that holds <org__model>/<revision>/"
                          "<Task>.json (e.g. --results results)")
    if not path.is_dir():
        raise ConfigError(f"{what} {path} is a file, not a folder; pass the folder that holds the result JSONs")
    return path


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


def _read_revision(rev_dir: Path, coll: Collection) -> _Revision | None:
    files = _task_jsons(rev_dir)
    if not files:
        return None
    tfs = [tf for f in files if (tf := read_task_file(f, coll.problems, coll.files))]
    return _Revision(rev_dir.name, _read_meta(rev_dir, coll), tfs)


def _variant_of(rev: _Revision, folder: Path, coll: Collection) -> tuple[str, str] | None:
    """(reference_model, description) when the revision's results say they come from a variant; None for the
    published checkpoint itself. A revision where only some files say so is still a variant (never official)."""
    refs = {tf.provenance.get("reference_model") for tf in rev.files}
    declared = sorted(r for r in refs if isinstance(r, str) and r)
    if not declared:  # local weights filed apart from the checkpoint: a variant of the model the run named
        local = rev.name.startswith(LOCAL_REVISION)
        return (rev.meta.get("name") or folder.name.replace("__", "/"), DEFAULT_VARIANT) if local else None
    where = str(folder / rev.name)
    if len(declared) > 1 or None in refs:
        coll.problems.append(Problem("warning", where, f"result files disagree on me5_eval.reference_model "
                                     f"({', '.join(declared)}, or none): shown as a variant without a reference"))
        return "", DEFAULT_VARIANT
    desc = next((tf.provenance["variant"] for tf in rev.files if isinstance(tf.provenance.get("variant"), str)),
                DEFAULT_VARIANT)
    return declared[0], desc


def _merge(folder: Path, revs: list[_Revision], source: str) -> ModelRun:
    """The published checkpoint's revision folders as one run: per task the file CHOICE_RULE picks."""
    # The name comes from a real run's model_meta.json before an imported ("external") one.
    named = [r.meta for r in revs if r.meta.get("name") and r.name != "external"] or \
        [r.meta for r in revs if r.meta.get("name")]
    meta = named[-1] if named else {}
    name = meta.get("name") or folder.name.replace("__", "/")
    run = ModelRun(name, name, source, folder, meta=meta)
    cands: dict[str, list[TaskFile]] = {}
    for r in revs:
        for tf in r.files:
            cands.setdefault(tf.task, []).append(tf)
    for task in sorted(cands):
        run.tasks[task], choice = _choose(task, cands[task])
        if choice:
            run.choices.append(choice)
    return run


def read_model_folder(folder: Path, source: str, coll: Collection, only: str | None = None) -> list[ModelRun]:
    """The runs in one <org__model> folder (`only`: one revision folder of it): the official checkpoint's
    revisions merged into one run, and one run per variant revision."""
    rev_dirs = [folder / only] if only else _subdirs(folder)
    revs = [r for d in rev_dirs if (r := _read_revision(d, coll))]
    official, variants = [], []
    for r in revs:
        (variants if (v := _variant_of(r, folder, coll)) else official).append((r, v))
    runs = [_merge(folder, [r for r, _ in official], source)] if official else []
    for r, (ref, desc) in variants:
        run = _merge(folder, [r], source)
        run.reference_model, run.variant = ref or None, desc
        if run.hub_id == ref or len(variants) > 1:  # never shown under the published checkpoint's own name
            run.name = f"{run.hub_id} [{r.name}]"
        runs.append(run)
    for run in runs:
        _check_versions(run, coll)
    return runs


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


def read_path(path: Path, source: str, coll: Collection) -> list[ModelRun]:
    """Every run under a results root, a model folder or a revision folder (see folder_kind)."""
    kind = folder_kind(path)
    if kind == "root":
        return [r for f in _subdirs(path) for r in read_model_folder(f, source, coll)]
    if kind == "model":
        return read_model_folder(path, source, coll)
    if kind == "revision":
        return read_model_folder(path.parent, source, coll, only=path.name)
    return []


def _add(coll: Collection, runs: list[ModelRun], source: str) -> None:
    """Duplicate model names are kept but flagged: the second is shown as `name [folder]`."""
    seen = {r.name: r for r in coll.runs if r.source == source}
    for run in runs:
        if first := seen.get(run.name):
            old = run.name
            run.name, run.primary = f"{run.name} [{run.folder}]", False
            coll.problems.append(Problem(
                "warning", str(run.folder),
                f"duplicate model name {old!r} (also {first.folder}); shown as {run.name!r}, "
                "not compared with the paper"))
        else:
            seen[run.name] = run
        coll.runs.append(run)


def collect(roots: list[Path], source: str, coll: Collection | None = None) -> Collection:
    """Read every run under each path (a missing reference folder is a warning: it is optional)."""
    coll = coll or Collection()
    for root in roots:
        if not root.is_dir():
            coll.problems.append(Problem("error", str(root), f"{source} results folder does not exist"))
            continue
        runs = read_path(root, source, coll)
        if not runs:
            coll.problems.append(Problem("warning", str(root), "no <org__model>/<revision>/<Task>.json found"))
        _add(coll, runs, source)
    return coll


def collect_results(roots: list[Path]) -> Collection:
    """Our results: every path must be a folder holding at least one readable result (else one clear error)."""
    for root in roots:
        require_folder(root)
    coll = collect(roots, "ours")
    if not any(r.tasks for r in coll.runs):
        bad = [p for p in coll.problems if p.severity == "error"]
        detail = f" ({len(bad)} unreadable file(s), e.g. {bad[0].where}: {bad[0].what})" if bad else ""
        raise DataError(f"no readable result under {', '.join(map(str, roots))}{detail}; expected "
                        "<org__model>/<revision>/<Task>.json: run `me5-eval run ...` first or pass --results DIR")
    return coll
