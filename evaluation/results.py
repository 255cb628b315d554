"""Result files in mteb's layout: results/<org>__<model>/<revision>/<Task>.json (+ model_meta.json, details/).

Files are written atomically, so a crash never leaves a half-written result, and an existing complete
result is never overwritten by a failed run (we only write after scoring succeeded). A result is never deleted
either: a result that a new one replaces (its identity, evaluation/identity.py, differed from the run's, or
output.overwrite=true) moves to ``<revision>/superseded/<timestamp>/<Task>.json``. (The run and per-item files under
``details/`` are rewritten by the new run.)
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from evaluation.atomic import atomic_write_text, writing
from evaluation.config import ModelConfig
from evaluation.errors import Me5EvalError
from evaluation.identity import identity_differences
from evaluation.version import __version__

log = logging.getLogger(__name__)

NO_REVISION = "no_revision_available"  # mteb's own folder name for models without a revision
SUPERSEDED = "superseded"  # <revision>/superseded/<timestamp>/: results replaced by newer ones (report skips it)
_REPORTED: set[tuple[Path, str]] = set()  # stale results already named in the log by this process


def model_dir_name(model_name: str) -> str:
    return model_name.replace("/", "__").replace(" ", "_")


def revision_dir(output_dir: str | Path, model: ModelConfig) -> Path:
    return Path(output_dir) / model_dir_name(model.name) / (model.revision or NO_REVISION)


def task_result_path(output_dir: str | Path, model: ModelConfig, task_name: str) -> Path:
    return revision_dir(output_dir, model) / f"{task_name}.json"


def details_dir(output_dir: str | Path, model: ModelConfig, task_name: str, split: str) -> Path:
    return revision_dir(output_dir, model) / "details" / task_name / split


def _round(obj: Any) -> Any:
    """mteb rounds scores to 6 decimals; NaN stays NaN (mteb writes bare NaN too)."""
    if isinstance(obj, float):
        return obj if math.isnan(obj) else round(obj, 6)
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_round(v) for v in obj]
    return obj


# mteb itself stores these as null/NaN when they have no value, by design: nAUC (a correlation over queries,
# undefined when a per-query metric is constant, e.g. every query perfect at rank 1) and average precision (defined
# for binary classification only). Any other metric that is not a finite number is a failed evaluation.
_UNDEFINED_BY_DESIGN = re.compile(r"nauc_.*|ap|ap_weighted")


class UndefinedScoreError(Me5EvalError):
    """A metric came out NaN/None/inf: the result is refused rather than stored as complete."""


def check_scores_defined(task_name: str, scores: dict[str, list[dict[str, Any]]]) -> None:
    """Refuse NaN/None/inf in main_score and in every metric except mteb's undefined-by-design ones (above)."""
    for split, entries in scores.items():
        for entry in entries:
            for key, value in entry.items():
                if isinstance(value, str | list | dict | bool) or _UNDEFINED_BY_DESIGN.fullmatch(key):
                    continue
                if value is None or (isinstance(value, float) and not math.isfinite(value)):
                    shown = "NaN" if value is not None and math.isnan(value) else value
                    raise UndefinedScoreError(
                        f"{task_name}/{entry.get('hf_subset')} ({split}): {key} is {shown}; not stored as a complete "
                        f"result. The data gives it no defined value (e.g. too few or constant gold labels) or the "
                        f"model's embeddings are degenerate; check the task's files and the model"
                    )


def write_task_result(path: Path, task_result, provenance: dict[str, Any]) -> Path:
    """Write an mteb TaskResult plus our provenance under the extra key `me5_eval` (mteb ignores it); a metric that
    is not a number (NaN/None) raises UndefinedScoreError and nothing is written. A result already at ``path``
    (output.overwrite=true, or one of fewer subsets) is kept under superseded/."""
    obj = task_result.model_dump(mode="json")
    check_scores_defined(task_result.task_name, task_result.scores)  # model_dump turns NaN into None: check both
    check_scores_defined(task_result.task_name, obj["scores"])
    obj["date"] = task_result.date.timestamp() if task_result.date else None
    obj["scores"] = _round(obj["scores"])
    obj["me5_eval"] = provenance
    if path.is_file():
        supersede(path)
    atomic_write_text(path, json.dumps(obj, indent=2, default=str))
    return path


def result_is_complete(path: Path, split: str, subsets: tuple[str, ...], identity: dict[str, Any] | None = None
                       ) -> bool:
    """True when `path` holds a result for every requested subset of `split` (resume skips the task) and, when
    ``identity`` is given, was produced by exactly those inputs (evaluation/identity.py).

    A file that is not a result (corrupt JSON, ``[]``, a dict without scores, ...) counts as missing and is moved
    aside to ``<Task>.invalid-<timestamp>.json`` (logged), so the rerun recomputes it and nothing is lost. A result
    of other inputs (or of unrecorded ones) is not complete: a log line names what differs, and the file stays in
    place until ``write_task_result`` replaces it (a failed recompute loses nothing).
    """
    if not path.is_file():
        return False
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
        problem = _not_a_result(obj, split) or _not_an_mteb_result(path)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        problem = f"unreadable ({e})"
    else:
        problem = problem and f"not a result: {problem}"
    if problem:
        aside = path.with_name(f"{path.stem}.invalid-{datetime.now():%Y%m%dT%H%M%S%f}.json")
        with writing(aside):
            os.replace(path, aside)
        log.warning("result file %s is %s; moved it to %s and recomputing it", path, problem, aside)
        return False
    if identity is not None:
        stored = obj.get("me5_eval", {}).get("identity") if isinstance(obj.get("me5_eval"), dict) else None
        if diffs := identity_differences(stored, identity):
            shown = ", ".join(diffs[:6]) + (f" (+{len(diffs) - 6} more)" if len(diffs) > 6 else "")
            if (path, shown) not in _REPORTED:  # the sweep driver and the runner both ask: say it once
                _REPORTED.add((path, shown))
                log.warning("%s: the stored result was computed from other inputs (%s): recomputing it; it stays in "
                            "place until the new one replaces it, then moves to %s/", path, shown,
                            path.parent / SUPERSEDED)
            return False
    return set(subsets) <= {e["hf_subset"] for e in obj["scores"].get(split, [])}


def supersede(path: Path) -> Path:
    """Move the result at ``path`` to <revision>/superseded/<timestamp>/<Task>.json (never deleted); returns it."""
    dest = path.parent / SUPERSEDED / f"{datetime.now():%Y%m%dT%H%M%S%f}" / path.name
    with writing(dest):
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, dest)
    log.info("the previous result at %s is kept in %s", path, dest)
    return dest


def _not_a_result(obj: Any, split: str) -> str | None:
    """Why a parsed JSON is not an mteb TaskResult (None when its shape is one)."""
    if not isinstance(obj, dict):
        return f"a JSON {type(obj).__name__}, not an object"
    if not isinstance(obj.get("scores"), dict):
        return "no 'scores' object"
    entries = obj["scores"].get(split, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "hf_subset" in e for e in entries):
        return f"scores[{split!r}] is not a list of subset entries"
    for e in entries:
        main = e.get("main_score")
        if isinstance(main, bool) or not isinstance(main, int | float) or not math.isfinite(main):
            return f"{e['hf_subset']}: main_score is {main!r}, not a number"
    return None


def _not_an_mteb_result(path: Path) -> str | None:
    """What mteb's own reader says about the file (the runner reads a complete result back with it)."""
    from mteb import TaskResult  # deferred: importing mteb takes seconds

    try:
        TaskResult.from_disk(path)
    except Exception as e:  # pydantic ValidationError, KeyError, ...: any refusal means the file is not usable
        return f"mteb cannot read it: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    return None


def write_model_meta(rev_dir: Path, model: ModelConfig, embed_dim: int | None) -> None:
    """model_meta.json next to the results, so mteb's ResultCache (require_model_meta=True) loads them."""
    from mteb.models.model_meta import ModelMeta

    meta = ModelMeta.create_empty(
        overwrites=dict(name=model.name, revision=model.revision or NO_REVISION, embed_dim=embed_dim,
                        max_tokens=model.max_length)
    )
    atomic_write_text(rev_dir / "model_meta.json", json.dumps(meta.to_dict(), indent=2, default=str))


def provenance(model: ModelConfig, *, protocol: str, dtype: str, device: str, fingerprint: str,
               data_source: dict[str, str], identity: dict[str, Any] | None = None,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``me5_eval`` block of a result JSON: what produced it (``identity``: what resume compares) and where."""
    return {
        "me5_eval_version": __version__,
        "model": model.name,
        "model_path": model.path,
        "revision": model.revision,
        "fingerprint": fingerprint,
        "protocol": protocol,
        "prompt_style": model.prompt_style,
        "max_length": model.max_length,
        "dtype": dtype,
        "device": device,
        "data_source": data_source,
        "python": platform.python_version(),
        "identity": identity,
        **({"reference_model": model.reference_model, "variant": model.variant} if model.reference_model else {}),
        **(extra or {}),
    }


def write_per_item(path: Path, rows: dict[str, dict[str, float]]) -> None:
    """One JSON object per query/item: {"id": ..., <metric>: value} (read by `compare`)."""
    lines = [json.dumps({"id": item_id, **metrics}) for item_id, metrics in rows.items()]
    atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))
