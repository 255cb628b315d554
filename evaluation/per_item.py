"""Per-item scores for non-retrieval tasks, from mteb's saved predictions, for paired significance tests.

Each value is chosen so that its mean over items is the task's main score (exactly, or up to rank ties), which
makes a paired test on per-item differences a test of the main-score difference:
- Classification: accuracy per item = share of mteb's n_experiments classifiers that got it right.
- STS: Spearman's per-item term 1 - 6 d_i^2 / (n^2 - 1), d_i = rank(cosine_i) - rank(gold_i); its mean is
  Spearman's rho when there are no ties (mteb's ranks average ties, so it is then a close approximation).
- BitextMining (aligned by position, e.g. Tatoeba): 1 when the nearest neighbour is the aligned sentence.
STS and bitext items also carry what the corpus-level metric is computed from (`cosine` + `gold`, `predicted` +
`gold`), so that `compare` can recompute Spearman / F1 on resampled items instead of averaging per-item terms.
Other task types (clustering, pair classification) have no such decomposition: `compare` shows their delta only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata

from evaluation.results import write_per_item


def classification_items(predictions: list[list[int]], gold: list[int]) -> dict[str, dict[str, float]]:
    correct = np.mean(np.asarray(predictions) == np.asarray(gold)[None, :], axis=0)
    return {str(i): {"accuracy": float(c)} for i, c in enumerate(correct)}


def sts_items(cosine: list[float], gold: list[float]) -> dict[str, dict[str, float]]:
    n = len(gold)
    d = rankdata(cosine) - rankdata(gold)
    terms = 1 - 6 * d**2 / (n**2 - 1)
    return {str(i): {"cosine_spearman": float(t), "cosine": float(c), "gold": float(g)}
            for i, (t, c, g) in enumerate(zip(terms, cosine, gold, strict=True))}


def bitext_items(neighbours: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    return {str(i): {"accuracy": float(int(nn["corpus_id"]) == i), "predicted": int(nn["corpus_id"]), "gold": i}
            for i, nn in enumerate(neighbours)}


def _split_data(task, subset: str, split: str):
    ds = task.dataset
    return ds[subset][split] if subset in ds else ds[split]


def items_for(task, subset: str, split: str, preds: Any) -> dict[str, dict[str, float]]:
    kind = task.metadata.type
    if kind == "Classification" and isinstance(preds, list):
        return classification_items(preds, list(_split_data(task, subset, split)["label"]))
    if kind == "STS" and isinstance(preds, dict) and "cosine_scores" in preds:
        return sts_items(preds["cosine_scores"], list(_split_data(task, subset, split)["score"]))
    if kind == "BitextMining" and isinstance(preds, dict) and len(preds) == 1:
        [neighbours] = preds.values()
        if "gold" not in _split_data(task, subset, split).column_names:  # BUCC's gold is not positional
            return bitext_items(neighbours)
    return {}


def write_per_items(task, prediction_file: Path, out: Path, split: str) -> list[Path]:
    """mteb's {subset: {split: predictions}} file -> <subset>.per_item.jsonl where a decomposition exists."""
    if not prediction_file.is_file():
        return []
    written = []
    for subset, by_split in json.loads(prediction_file.read_text(encoding="utf-8")).items():
        if subset == "mteb_model_meta" or split not in by_split:
            continue
        rows = items_for(task, subset, split, by_split[split])
        if rows:
            path = out / f"{subset}.per_item.jsonl"
            write_per_item(path, rows)
            written.append(path)
    return written
