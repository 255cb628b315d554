"""Result files in mteb's layout: results/<org>__<model>/<revision>/<Task>.json (+ model_meta.json, details/).

Files are written atomically, so a crash never leaves a half-written result, and an existing complete
result is never overwritten by a failed run (we only write after scoring succeeded).
"""

from __future__ import annotations

import json
import logging
import math
import platform
from pathlib import Path
from typing import Any

from evaluation import __version__
from evaluation.atomic import atomic_write_text
from evaluation.config import ModelConfig

NO_REVISION = "no_revision_available"  # mteb's own folder name for models without a revision


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


def write_task_result(path: Path, task_result, provenance: dict[str, Any]) -> Path:
    """Write an mteb TaskResult plus our provenance under the extra key `me5_eval` (mteb ignores it)."""
    obj = task_result.model_dump(mode="json")
    obj["date"] = task_result.date.timestamp() if task_result.date else None
    obj["scores"] = _round(obj["scores"])
    obj["me5_eval"] = provenance
    atomic_write_text(path, json.dumps(obj, indent=2, default=str))
    return path


def result_is_complete(path: Path, split: str, subsets: tuple[str, ...]) -> bool:
    """True when `path` holds scores for every requested subset of `split` (resume skips the task)."""
    if not path.is_file():
        return False
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:  # corrupt or partial: recompute, atomically
        logging.getLogger(__name__).warning("result file %s is unreadable (%s); recomputing it", path, e)
        return False
    have = {entry.get("hf_subset") for entry in obj.get("scores", {}).get(split, [])}
    return set(subsets) <= have


def write_model_meta(rev_dir: Path, model: ModelConfig, embed_dim: int | None) -> None:
    """model_meta.json next to the results, so mteb's ResultCache (require_model_meta=True) loads them."""
    from mteb.models.model_meta import ModelMeta

    meta = ModelMeta.create_empty(
        overwrites=dict(name=model.name, revision=model.revision or NO_REVISION, embed_dim=embed_dim,
                        max_tokens=model.max_length)
    )
    atomic_write_text(rev_dir / "model_meta.json", json.dumps(meta.to_dict(), indent=2, default=str))


def provenance(model: ModelConfig, *, protocol: str, dtype: str, device: str, fingerprint: str,
               data_source: dict[str, str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
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
        **(extra or {}),
    }


def write_per_item(path: Path, rows: dict[str, dict[str, float]]) -> None:
    """One JSON object per query/item: {"id": ..., <metric>: value} (read by `compare`)."""
    lines = [json.dumps({"id": item_id, **metrics}) for item_id, metrics in rows.items()]
    atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))
