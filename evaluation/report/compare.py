"""Is checkpoint B really better than A? Per task and per language: delta, paired tests, Holm, win/tie/loss.

Per-item scores come from the runner's details/<Task>/<split>/<hf_subset>.per_item.jsonl (one JSON object
per query/item, `{"id": ..., "<metric>": value}`), paired by id. Without them only the delta is shown.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.errors import ConfigError
from evaluation.report.collect import ModelRun, Problem, TaskFile, _main_score_name, collect
from evaluation.report.settings import CompareSettings
from evaluation.report.significance import bootstrap_ci, holm, permutation_test, win_tie_loss

SUBSET_COLUMNS = ["task", "split", "subset", "score_a", "score_b", "delta", "item_metric", "n_items",
                  "item_delta", "ci_low", "ci_high", "p", "p_holm", "wins", "ties", "losses", "test"]
TASK_COLUMNS = ["task", "n_subsets", "score_a", "score_b", "delta", "item_metric", "n_items", "item_delta",
                "ci_low", "ci_high", "p", "p_holm", "verdict", "wins", "ties", "losses", "test"]


@dataclass
class CompareResult:
    model_a: str
    model_b: str
    tasks: pd.DataFrame
    subsets: pd.DataFrame
    top_items: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    settings: CompareSettings = field(default_factory=CompareSettings)

    @property
    def summary(self) -> str:
        v = self.tasks["verdict"].value_counts() if not self.tasks.empty else {}
        return (f"B ({self.model_b}) vs A ({self.model_a}) over {len(self.tasks)} tasks: "
                f"B significantly better on {v.get('B better', 0)}, worse on {v.get('B worse', 0)}, "
                f"no significant difference on {v.get('no significant difference', 0)}, "
                f"not testable on {v.get('not testable', 0)} (Holm, alpha={self.settings.alpha})")


def find_model(runs: list[ModelRun], name: str, root: Path) -> ModelRun:
    for r in runs:
        if name in (r.name, r.hub_id, r.folder.name):
            return r
    have = ", ".join(sorted(r.name for r in runs)) or "none"
    raise ConfigError(f"model {name!r} not found under {root}; models there: {have}")


def read_per_item(path: Path, problems: list[Problem]) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
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


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)


def item_metric(task: str, ra: dict, rb: dict) -> str | None:
    """The task's main metric when the files carry it, else the first numeric key both share."""
    first_a, first_b = next(iter(ra.values()), {}), next(iter(rb.values()), {})
    shared = [k for k in first_a if k != "id" and _is_num(first_a[k]) and _is_num(first_b.get(k))]
    main = _main_score_name(task)
    return main if main in shared else ("main_score" if "main_score" in shared else (shared or [None])[0])


def _pairs(ra: dict, rb: dict, metric: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    ids = sorted(i for i in ra.keys() & rb.keys() if _is_num(ra[i].get(metric)) and _is_num(rb[i].get(metric)))
    return ids, np.array([ra[i][metric] for i in ids], float), np.array([rb[i][metric] for i in ids], float)


def _main(tf: TaskFile, split: str, subset: str) -> float:
    for e in tf.scores.get(split, []):
        if e.get("hf_subset") == subset and _is_num(e.get("main_score")):
            return 100.0 * e["main_score"]
    return math.nan


def _details(tf: TaskFile, split: str, subset: str) -> Path:
    return tf.path.parent / "details" / tf.task / split / f"{subset}.per_item.jsonl"


def _test(a: np.ndarray, b: np.ndarray, w, cfg: CompareSettings) -> dict:
    d = 100.0 * (b - a)  # points, like the scores
    lo, hi = bootstrap_ci(d, w, cfg.n_resamples, cfg.seed)
    wins, ties, losses = win_tie_loss(a, b, cfg.tie_eps)
    mean = float(np.sum(d * w) / np.sum(w)) if w is not None else float(d.mean())
    return {"n_items": len(d), "item_delta": mean, "ci_low": lo, "ci_high": hi,
            "p": permutation_test(d, w, cfg.n_resamples, cfg.seed), "wins": wins, "ties": ties, "losses": losses}


def _compare_task(task: str, ta: TaskFile, tb: TaskFile, cfg: CompareSettings, problems, notes):
    """Per-subset rows, the task row, and the per-item deltas (for the top-items list)."""
    rows, items = [], []
    splits = [s for s in ta.scores if s in tb.scores]
    splits = ["test"] if "test" in splits else splits  # a task's score is its test split where it has one
    keys = [(s, e["hf_subset"]) for s in splits for e in ta.scores[s]
            if any(x.get("hf_subset") == e.get("hf_subset") for x in tb.scores[s])]
    for split, subset in keys:
        row = {"task": task, "split": split, "subset": subset, "score_a": _main(ta, split, subset),
               "score_b": _main(tb, split, subset)}
        pa, pb = _details(ta, split, subset), _details(tb, split, subset)
        if not (pa.is_file() and pb.is_file()):
            missing = " and ".join(str(p) for p in (pa, pb) if not p.is_file())
            rows.append({**row, "test": f"not possible: no per-item file {missing}"})
            continue
        ra, rb = read_per_item(pa, problems), read_per_item(pb, problems)
        metric = item_metric(task, ra, rb)
        ids, a, b = _pairs(ra, rb, metric) if metric else ([], np.array([]), np.array([]))
        if not ids:
            rows.append({**row, "test": "not possible: no item ids with a shared numeric metric"})
            continue
        if unpaired := len(ra.keys() ^ rb.keys()):
            notes.append(f"{task} {split}/{subset}: {unpaired} item ids present for only one model (left out)")
        rows.append({**row, "item_metric": metric, **_test(a, b, None, cfg), "test": "paired permutation"})
        items.append(pd.DataFrame({"task": task, "split": split, "subset": subset, "id": ids, "a": 100 * a,
                                   "b": 100 * b, "delta": 100 * (b - a)}))
    sub = pd.DataFrame(rows, columns=SUBSET_COLUMNS)
    sub["delta"] = sub["score_b"] - sub["score_a"]
    sub["p_holm"] = holm(sub["p"])  # family: the languages/subsets of this task
    return sub, _task_row(task, sub, items, cfg), items


def _task_row(task: str, sub: pd.DataFrame, items: list[pd.DataFrame], cfg: CompareSettings) -> dict:
    row = {"task": task, "n_subsets": len(sub), "score_a": sub["score_a"].mean(), "score_b": sub["score_b"].mean()}
    row["delta"] = row["score_b"] - row["score_a"]
    if sub.empty or sub["p"].isna().any():
        return {**row, "test": "not possible: per-item files missing for some subsets (delta only)"}
    df = pd.concat(items, ignore_index=True)
    # each subset weighs 1/#subsets, its items share that weight: the statistic is the task-score delta
    w = df.groupby(["split", "subset"])["id"].transform(lambda s: 1.0 / (len(s) * len(items))).to_numpy()
    metric = ",".join(sorted(set(sub["item_metric"])))
    test = _test(df["a"].to_numpy() / 100, df["b"].to_numpy() / 100, w, cfg)
    return {**row, "item_metric": metric, **test, "test": "paired permutation (subsets weighted equally)"}


def _verdict(row, alpha: float) -> str:
    if pd.isna(row["p_holm"]):
        return "not testable"
    if row["p_holm"] >= alpha:
        return "no significant difference"
    return "B better" if row["item_delta"] > 0 else "B worse"


def compare(results_dir: str | Path, model_a: str, model_b: str,
            settings: CompareSettings | None = None) -> CompareResult:
    cfg = settings or CompareSettings()
    root = Path(results_dir)
    coll = collect([root], "ours")
    ra, rb = find_model(coll.runs, model_a, root), find_model(coll.runs, model_b, root)
    notes = [f"tasks only in A: {', '.join(sorted(ra.tasks.keys() - rb.tasks.keys()))}"] \
        if ra.tasks.keys() - rb.tasks.keys() else []
    if only_b := sorted(rb.tasks.keys() - ra.tasks.keys()):
        notes.append(f"tasks only in B: {', '.join(only_b)}")
    subs, task_rows, tops = [], [], []
    for task in sorted(ra.tasks.keys() & rb.tasks.keys()):
        sub, trow, items = _compare_task(task, ra.tasks[task], rb.tasks[task], cfg, coll.problems, notes)
        subs.append(sub)
        task_rows.append(trow)
        if items:
            df = pd.concat(items, ignore_index=True)
            tops.append(df.loc[df["delta"].abs().sort_values(ascending=False, kind="stable").index[:cfg.top_items]])
    tasks = pd.DataFrame(task_rows, columns=TASK_COLUMNS)
    tasks["p_holm"] = holm(tasks["p"])  # family: all tasks
    tasks["verdict"] = [_verdict(r, cfg.alpha) for _, r in tasks.iterrows()]
    subsets = pd.concat(subs, ignore_index=True) if subs else pd.DataFrame(columns=SUBSET_COLUMNS)
    top = pd.concat(tops, ignore_index=True) if tops else pd.DataFrame(
        columns=["task", "split", "subset", "id", "a", "b", "delta"])
    return CompareResult(ra.name, rb.name, tasks, subsets, top, notes, coll.problems, cfg)
