"""Is run B really better than run A? Per task and per subset: the reported metric's delta, a paired test on that
metric (significance.py), Holm corrections, win/tie/loss, and the items that differ most with their text.

Runs are found by `resolve_runs`: each argument is a results folder (a root holding one model, an <org__model>
folder or one <revision> folder) or a model name looked up in every --results folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.errors import ConfigError, DataError
from evaluation.report.collect import Collection, ModelRun, folder_kind, read_path, require_folder
from evaluation.report.items import (
    PairedSubset,
    item_contributions,
    item_texts,
    pair,
    per_item_path,
    read_per_item,
    short,
)
from evaluation.report.published import main_scores, score_split
from evaluation.report.result_file import Problem, TaskFile, main_score_name
from evaluation.report.settings import CompareSettings
from evaluation.report.significance import Groups, bootstrap_ci, holm, permutation_p, win_tie_loss

SUBSET_COLUMNS = ["task", "split", "subset", "metric", "score_a", "score_b", "delta", "statistic", "n_items",
                  "ci_low", "ci_high", "p", "p_holm", "wins", "ties", "losses", "test"]
TASK_COLUMNS = ["task", "metric", "n_subsets", "score_a", "score_b", "delta", "statistic", "n_items", "ci_low",
                "ci_high", "p", "p_holm", "verdict", "subsets_differ", "wins", "ties", "losses", "test"]
ITEM_COLUMNS = ["task", "split", "subset", "id", "text", "a", "b", "delta"]
MISMATCH_POINTS = 0.05  # per-item statistic vs the result file's score: larger gaps mean the files disagree


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


def _runs_at(path: Path, coll: Collection) -> list[ModelRun]:
    require_folder(path, "result folder")
    if folder_kind(path) == "empty":
        raise DataError(f"{path} holds no readable result (expected <org__model>/<revision>/<Task>.json, "
                        "<revision>/<Task>.json or <Task>.json)")
    return read_path(path, "ours", coll)


def resolve_runs(args: list[str], roots: list[Path], coll: Collection) -> list[tuple[str, ModelRun]]:
    """(label, run) per argument: a folder is read as it is; a name is looked up in every --results folder (each
    must exist), and must match exactly one run."""
    in_roots: list[ModelRun] | None = None
    found = []
    for arg in args:
        if Path(arg).exists():
            runs = _runs_at(Path(arg), coll)
        else:
            if in_roots is None:
                in_roots = [r for root in roots for r in _runs_at(root, coll)]
            runs = [r for r in in_roots if arg in (r.name, r.hub_id, r.folder.name)]
            if not runs:
                raise ConfigError(f"{arg!r} is neither a folder nor a model under {', '.join(map(str, roots))}; "
                                  f"models there: {', '.join(sorted({r.name for r in in_roots})) or 'none'}")
        if len(runs) != 1:
            where = "; ".join(f"{r.name} in {r.folder}" for r in runs)
            raise ConfigError(f"{arg!r} matches {len(runs)} runs ({where}); pass one model or revision folder")
        found.append((arg, runs[0]))
    keys = [(r.folder.resolve(), tuple(sorted(str(t.path) for t in r.tasks.values()))) for _, r in found]
    if len(set(keys)) < len(keys):
        raise ConfigError("the same run is given twice: " + ", ".join(args))
    return [(label, run) for label, (_, run) in zip(_labels(found), found, strict=True)]


def _labels(found: list[tuple[str, ModelRun]]) -> list[str]:
    """Model names when they are distinct, else the shortest distinguishing tails of the folders as typed (e.g.
    step-1000, step-2000; or results/org__m vs mteb-results/org__m)."""
    names = [r.name for _, r in found]
    if len(set(names)) == len(names):
        return names
    parts = [Path(arg).parts or (arg,) for arg, _ in found]
    for k in range(1, max(map(len, parts)) + 1):
        tails = ["/".join(p[-k:]) for p in parts]
        if len(set(tails)) == len(tails):
            return tails
    return [arg for arg, _ in found]


def _subset_test(p: PairedSubset, cfg: CompareSettings) -> dict:
    g = Groups([p.statistic], p.a, p.b, p.gold, [0, len(p.ids)])
    lo, hi = bootstrap_ci(g, cfg.n_resamples, cfg.seed)
    ca, cb = item_contributions(p)
    wins, ties, losses = win_tie_loss(ca, cb, cfg.tie_eps)
    return {"statistic": p.statistic, "n_items": len(p.ids), "ci_low": lo, "ci_high": hi,
            "p": permutation_p(g, cfg.n_resamples, cfg.seed), "wins": wins, "ties": ties, "losses": losses}


def subset_groups(paired: list[PairedSubset], weights: list[float] | None = None) -> Groups:
    """Subsets as one sample: the score is the (weighted) mean of the subset statistics, as a task score is the
    mean over its subsets. A statistic without gold values gets zeros there (it ignores them)."""
    starts = [int(x) for x in np.cumsum([0] + [len(p.ids) for p in paired])]
    gold = np.concatenate([p.gold if p.gold is not None else np.zeros(len(p.ids)) for p in paired])
    return Groups([p.statistic for p in paired], np.concatenate([p.a for p in paired]),
                  np.concatenate([p.b for p in paired]), gold, starts, weights)


def pair_task(task: str, ta: TaskFile, tb: TaskFile, problems: list[Problem], only: set[str] | None = None):
    """(split, {subset: (score_a, score_b)}, [PairedSubset], {subset: why not}, {subset: rows of A}) over the
    subsets both runs scored (`only`: a subset of those)."""
    split = score_split(task, ta, tb)
    sa, sb = (main_scores(ta, split), main_scores(tb, split)) if split else ({}, {})
    scores = {s: (sa[s], sb[s]) for s in sorted(sa.keys() & sb.keys()) if only is None or s in only}
    metric = main_score_name(task)
    paired, why, rows_a = [], {}, {}
    for subset in scores:
        pa, pb = per_item_path(ta, split, subset), per_item_path(tb, split, subset)
        if not (pa.is_file() and pb.is_file()):
            why[subset] = "not possible: no per-item file " + " and ".join(str(x) for x in (pa, pb) if not x.is_file())
            continue
        ra, rb = read_per_item(pa, problems), read_per_item(pb, problems)
        p, why_not = pair(split, subset, metric, ra, rb)
        if p is None:
            why[subset] = why_not
        else:
            paired.append(p)
            rows_a[subset] = ra
    return split, scores, paired, why, rows_a


def _compare_task(task, ta, tb, cfg, problems, notes):
    split, scores, paired, why, rows_a = pair_task(task, ta, tb, problems)
    metric = main_score_name(task) or "main_score"
    by_subset = {p.subset: p for p in paired}
    rows = []
    for subset, (a, b) in scores.items():
        row = {"task": task, "split": split, "subset": subset, "metric": metric, "score_a": a, "score_b": b,
               "delta": b - a}
        if subset in by_subset:
            rows.append({**row, **_subset_test(by_subset[subset], cfg), "test": "paired permutation"})
            if by_subset[subset].unpaired:
                notes.append(f"{task} {split}/{subset}: {by_subset[subset].unpaired} item ids present for only "
                             "one run (left out)")
        else:
            rows.append({**row, "test": why[subset]})
    sub = pd.DataFrame(rows, columns=SUBSET_COLUMNS)
    sub["p_holm"] = holm(sub["p"])  # family: the subsets of this task
    return sub, _task_row(task, metric, sub, paired, cfg, notes), paired, rows_a


def _task_row(task, metric, sub: pd.DataFrame, paired, cfg: CompareSettings, notes: list[str]) -> dict:
    row = {"task": task, "metric": metric, "n_subsets": len(sub), "score_a": sub["score_a"].mean(),
           "score_b": sub["score_b"].mean()}
    row["delta"] = row["score_b"] - row["score_a"]
    if not paired or len(paired) != len(sub):
        return {**row, "test": "not possible: per-item files missing or unusable for some subsets (delta only)"}
    g = subset_groups(paired)
    observed = float(g.score(g.b) - g.score(g.a))
    if abs(observed - row["delta"]) > MISMATCH_POINTS:
        notes.append(f"{task}: the per-item files give a delta of {observed:+.2f}, the result files {row['delta']:+.2f}"
                     " (per-item files from another run?)")
    lo, hi = bootstrap_ci(g, cfg.n_resamples, cfg.seed)
    return {**row, "statistic": ",".join(sorted(set(g.statistics))), "n_items": g.n, "ci_low": lo, "ci_high": hi,
            "p": permutation_p(g, cfg.n_resamples, cfg.seed), "wins": int(sub["wins"].sum()),
            "ties": int(sub["ties"].sum()), "losses": int(sub["losses"].sum()),
            "test": "paired permutation on the task score (mean over subsets)"}


def _verdict(row, alpha: float) -> str:
    if pd.isna(row["p_holm"]):
        return "not testable"
    if row["p_holm"] >= alpha:
        return "no significant difference"
    return "B better" if row["delta"] > 0 else "B worse"


def _few(names: list[str]) -> str:
    return ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")


def subsets_differ(sub: pd.DataFrame, verdict: str, alpha: float) -> str:
    """Subsets whose own test (Holm-corrected within the task) disagrees with the task verdict: said, never
    hidden. A one-subset task is its subset: nothing to say."""
    if len(sub) <= 1:
        return ""
    sig = sub[sub["p_holm"] < alpha]
    parts = []
    for direction, mask, same in (("better", sig["delta"] > 0, "B better"), ("worse", sig["delta"] < 0, "B worse")):
        names = sig.loc[mask, "subset"].tolist()
        if names and verdict != same:
            parts.append(f"B {direction} on {len(names)} ({_few(names)})")
    return f"{'; '.join(parts)} of {len(sub)} subsets (Holm within the task)" if parts else ""


def _top_items(task, ta: TaskFile, paired: list[PairedSubset], rows_a, cfg, notes, data_root) -> pd.DataFrame:
    frames = []
    for p in paired:
        ca, cb = item_contributions(p)
        frames.append(pd.DataFrame({"task": task, "split": p.split, "subset": p.subset, "id": p.ids,
                                    "a": 100 * ca, "b": 100 * cb, "delta": 100 * (cb - ca)}))
    df = pd.concat(frames, ignore_index=True)
    df = df[df["delta"].abs() > 100 * cfg.tie_eps]  # ties are not "items that differ"
    top = df.loc[df["delta"].abs().sort_values(ascending=False, kind="stable").index[:cfg.top_items]].copy()
    top["text"] = ""
    for (split, subset), idx in top.groupby(["split", "subset"], sort=False).groups.items():
        ids = top.loc[idx, "id"].tolist()
        found, why = item_texts(ta, split, subset, ids, rows_a[subset], data_root)
        if why:
            notes.append(why)
        top.loc[idx, "text"] = [short(found.get(i, "")) for i in ids]
    return top[ITEM_COLUMNS]


def compare_runs(a: tuple[str, ModelRun], b: tuple[str, ModelRun], cfg: CompareSettings | None = None,
                 data_root: Path | None = None, problems: list[Problem] | None = None) -> CompareResult:
    cfg = cfg or CompareSettings()
    (label_a, ra), (label_b, rb) = a, b
    problems = problems if problems is not None else []
    notes = [f"tasks only in {lab}: {', '.join(sorted(x))}" for lab, x in
             ((label_a, ra.tasks.keys() - rb.tasks.keys()), (label_b, rb.tasks.keys() - ra.tasks.keys())) if x]
    subs, task_rows, tops = [], [], []
    for task in sorted(ra.tasks.keys() & rb.tasks.keys()):
        sub, trow, paired, rows_a = _compare_task(task, ra.tasks[task], rb.tasks[task], cfg, problems, notes)
        subs.append(sub)
        task_rows.append(trow)
        if paired and cfg.top_items:
            tops.append(_top_items(task, ra.tasks[task], paired, rows_a, cfg, notes, data_root))
    tasks = pd.DataFrame(task_rows, columns=TASK_COLUMNS)
    tasks["p_holm"] = holm(tasks["p"])  # family: all tasks
    tasks["verdict"] = [_verdict(r, cfg.alpha) for _, r in tasks.iterrows()]
    tasks["subsets_differ"] = [subsets_differ(s, v, cfg.alpha) for s, v in zip(subs, tasks["verdict"], strict=True)]
    subsets = pd.concat(subs, ignore_index=True) if subs else pd.DataFrame(columns=SUBSET_COLUMNS)
    top = pd.concat(tops, ignore_index=True) if tops else pd.DataFrame(columns=ITEM_COLUMNS)
    return CompareResult(label_a, label_b, tasks, subsets, top, list(dict.fromkeys(notes)), problems, cfg)
