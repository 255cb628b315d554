"""Per-item outputs of a run: read `details/<Task>/<split>/<hf_subset>.per_item.jsonl`, pair two runs' items by id
on the statistic the task reports, and find the items' text.

Per-item file contract (one JSON object per line, written by the runner; see docs/report.md):
`{"id": ..., "<metric>": value, ...}` for metrics that are means over items (nDCG@10 per query, accuracy per
item); corpus-level metrics need what they are computed from: bitext F1 `predicted` + `gold` (indices), STS
Spearman `cosine` + `gold`. An optional `text` field is shown next to the items that differ most.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

from evaluation.data.registry import load_local
from evaluation.errors import Me5EvalError
from evaluation.report.result_file import Problem, TaskFile

# Reported metric -> (statistic, per-item key of the model's output, per-item key of the gold value). A metric not
# listed here is a mean over items of its own per-item value (e.g. ndcg_at_10, accuracy).
CORPUS_METRICS = {
    "f1": ("weighted_f1", "predicted", "gold"),
    "cosine_spearman": ("spearman", "cosine", "gold"),
    "spearman": ("spearman", "cosine", "gold"),
}
TEXT_CHARS = 160  # an item's text is cut to this many characters in the tables


@dataclass
class PairedSubset:
    """One (split, subset) of a task: both runs' items paired by id on one statistic."""

    split: str
    subset: str
    statistic: str
    ids: list[str]
    a: np.ndarray
    b: np.ndarray
    gold: np.ndarray | None
    unpaired: int  # ids present for one run only (left out)


def per_item_path(tf: TaskFile, split: str, subset: str) -> Path:
    return tf.path.parent / "details" / tf.task / split / f"{subset}.per_item.jsonl"


def read_per_item(path: Path, problems: list[Problem]) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        problems.append(Problem("warning", str(path), f"unreadable per-item file ({e}); no test for it"))
        return rows
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(Problem("warning", f"{path}:{i}", f"bad JSON line skipped ({e})"))
            continue
        if not isinstance(obj, dict) or "id" not in obj:
            problems.append(Problem("warning", f"{path}:{i}", "line without an 'id' skipped"))
            continue
        rows[str(obj["id"])] = obj
    return rows


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)


def how_to_test(metric: str | None) -> tuple[str, str, str | None]:
    """(statistic, output key, gold key) for the task's reported metric."""
    if metric in CORPUS_METRICS:
        return CORPUS_METRICS[metric]
    return "mean", metric or "main_score", None


def pair(split: str, subset: str, metric: str | None, ra: dict[str, dict], rb: dict[str, dict]
         ) -> tuple[PairedSubset | None, str]:
    """Items of both runs on the reported metric, or (None, why not)."""
    statistic, key, gold_key = how_to_test(metric)
    need = [key] + ([gold_key] if gold_key else [])
    ids = sorted(i for i in ra.keys() & rb.keys() if all(_num(ra[i].get(k)) and _num(rb[i].get(k)) for k in need))
    if not ids:
        return None, f"not possible: the per-item files hold no {' + '.join(need)} (the reported metric is " \
                     f"{metric}); re-run to record them"
    if gold_key and any(ra[i][gold_key] != rb[i][gold_key] for i in ids):
        return None, f"not possible: the runs' '{gold_key}' values differ (not the same data)"
    a = np.array([ra[i][key] for i in ids], dtype=float)
    b = np.array([rb[i][key] for i in ids], dtype=float)
    gold = np.array([ra[i][gold_key] for i in ids], dtype=float) if gold_key else None
    unpaired = len(ra.keys() ^ rb.keys())
    return PairedSubset(split, subset, statistic, ids, a, b, gold, unpaired), ""


def item_contributions(p: PairedSubset) -> tuple[np.ndarray, np.ndarray]:
    """A per-item view of each run for win/tie/loss and 'largest differences' (not what the test uses for
    corpus-level metrics): the metric value; 1/0 for a correct bitext alignment; Spearman's per-item term."""
    if p.statistic == "weighted_f1":
        return (p.a == p.gold).astype(float), (p.b == p.gold).astype(float)
    if p.statistic == "spearman":
        n, rg = len(p.gold), rankdata(p.gold)
        return tuple(1 - 6 * (rankdata(x) - rg) ** 2 / (n**2 - 1) for x in (p.a, p.b))
    return p.a, p.b


def _texts_of(data, ids: list[str]) -> dict[str, str]:
    """Item text from a loaded evaluation.data object (retrieval: by query id; others: by position)."""
    if hasattr(data, "queries"):
        return {i: data.queries[i] for i in ids if i in data.queries}
    if hasattr(data, "scores") and hasattr(data, "sentence2"):  # STS pairs
        return {i: f"{data.sentence1[int(i)]} || {data.sentence2[int(i)]}" for i in ids if int(i) < len(data.scores)}
    if hasattr(data, "test_texts"):
        return {i: data.test_texts[int(i)] for i in ids if int(i) < len(data.test_texts)}
    if hasattr(data, "sentence1"):  # bitext, aligned by position
        return {i: f"{data.sentence1[int(i)]} -> {data.sentence2[int(i)]}" for i in ids if int(i) < len(data.sentence1)}
    return {}


def item_texts(tf: TaskFile, split: str, subset: str, ids: list[str], rows: dict[str, dict],
               data_root: Path | None) -> tuple[dict[str, str], str]:
    """({id: text}, why-not note): the per-item files' `text` field, else the local data the run read (its
    provenance `data_source`, or `data_root`); never a row index passed off as text."""
    texts = {i: str(rows[i]["text"]) for i in ids if i in rows and isinstance(rows[i].get("text"), str)}
    if len(texts) == len(ids):
        return texts, ""
    source = str((tf.provenance.get("data_source") or {}).get(tf.task, ""))
    root = data_root or (Path(source.removeprefix("local:")) if source.startswith("local:") else None)
    if root is None:
        return texts, f"{tf.task}: item texts unavailable (data source {source or 'not recorded'}; pass --data DIR)"
    try:
        data = load_local(tf.task, subset, split, root, lazy_corpus=True)
    except (Me5EvalError, OSError, ValueError) as e:
        return texts, f"{tf.task}/{subset}: item texts unavailable from {root} ({str(e).splitlines()[0]})"
    return {**_texts_of(data, ids), **texts}, ""


def short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS - 1] + "\u2026"
