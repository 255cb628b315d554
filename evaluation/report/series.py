"""A checkpoint series (e.g. a training run's step-1000/ step-2000/ ...): one score per task and checkpoint, the
suite averages, the best checkpoint and whether it is significantly better than the next best.

Every checkpoint is scored on the same thing: per task, the subsets all checkpoints ran (a task not run by every
checkpoint is shown but left out of the overall mean). "Overall" = mean over those common tasks, each task the
mean over its subsets. The best-vs-next-best test is the paired permutation test of compare.py on that score.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.report.aggregate import aggregate
from evaluation.report.collect import ModelRun
from evaluation.report.compare import pair_task, subset_groups
from evaluation.report.items import PairedSubset
from evaluation.report.published import main_scores, score_split
from evaluation.report.result_file import Problem
from evaluation.report.settings import CompareSettings
from evaluation.report.significance import bootstrap_ci, permutation_p
from evaluation.report.tables import LEADERBOARD_COLUMNS

OVERALL = "mean over common tasks"


@dataclass
class SeriesResult:
    labels: list[str]  # checkpoints in the order given
    scores: pd.DataFrame  # rows: tasks, then suite averages and OVERALL; columns: labels
    kind: pd.Series  # per row: "task" | "suite" | "overall"
    best: pd.DataFrame  # per row: best, next best, delta, p, ci, verdict
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    settings: CompareSettings = field(default_factory=CompareSettings)

    @property
    def summary(self) -> str:
        row = self.best.set_index("row").loc[OVERALL] if OVERALL in set(self.best["row"]) else None
        if row is None or pd.isna(row["best"]):
            return f"{len(self.labels)} checkpoints; no task run by all of them"
        return (f"best checkpoint over the common tasks: {row['best']} ({row['best_score']:.2f}); next best "
                f"{row['next']} ({row['next_score']:.2f}): {row['verdict']}")


def _common_subsets(task: str, runs: list[ModelRun]) -> tuple[str | None, list[str]]:
    first = runs[0].tasks[task]
    split = score_split(task, first, runs[-1].tasks[task])
    subsets = set(main_scores(first, split)) if split else set()
    for r in runs[1:]:
        subsets &= set(main_scores(r.tasks[task], split))
    return split, sorted(subsets)


def task_scores(runs: list[ModelRun], labels: list[str], notes: list[str]
                ) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Per task: each checkpoint's mean main score over the subsets all checkpoints that ran the task ran (NaN for
    a checkpoint without the task), and those subsets for the tasks every checkpoint ran."""
    rows, common = {}, {}
    for task in sorted(set().union(*(r.tasks for r in runs))):
        have = [r for r in runs if task in r.tasks]
        split, subsets = _common_subsets(task, have)
        if not subsets:
            notes.append(f"{task}: no subset that every checkpoint with this task ran")
            continue
        rows[task] = [float(np.mean([main_scores(r.tasks[task], split)[s] for s in subsets]))
                      if task in r.tasks else np.nan for r in runs]
        if len(have) == len(runs):
            common[task] = subsets
        else:
            notes.append(f"{task}: run by {len(have)} of {len(runs)} checkpoints (not in the overall mean)")
    return pd.DataFrame.from_dict(rows, orient="index", columns=labels), common


def suite_scores(runs: list[ModelRun], labels: list[str]) -> pd.DataFrame:
    """The leaderboard's suite / category averages (the paper's rules), complete means only."""
    cols = {}
    for label, run in zip(labels, runs, strict=True):
        agg = aggregate(run)
        agg = agg[agg["n"] == agg["n_expected"]].set_index(["task", "subset", "metric"])["value"]
        cols[label] = {name: agg.get(key, np.nan) for name, key in LEADERBOARD_COLUMNS.items()}
    return pd.DataFrame(cols).dropna(how="all")


def _paired(runs: tuple[ModelRun, ModelRun], subsets: dict[str, list[str]], problems
            ) -> list[list[PairedSubset]] | None:
    """Per task, the paired items of two checkpoints on the given subsets; None when any lacks per-item files."""
    out = []
    for task, wanted in subsets.items():
        _, _, paired, _, _ = pair_task(task, runs[0].tasks[task], runs[1].tasks[task], problems, only=set(wanted))
        if len(paired) != len(wanted):
            return None
        out.append(paired)
    return out


def best_vs_next(name: str, values: pd.Series, runs: dict[str, ModelRun], subsets: dict[str, list[str]] | None,
                 cfg: CompareSettings, problems: list[Problem]) -> dict:
    """The best checkpoint of a row and the paired test against the runner-up on the row's own score
    (`subsets`: task -> the subsets the row averages; None for a suite average, which is not tested)."""
    ranked = values.dropna().sort_values(ascending=False, kind="stable")
    row = {"row": name, "best": None, "best_score": np.nan, "next": None, "next_score": np.nan}
    if len(ranked) < 2:
        return {**row, "verdict": "fewer than 2 checkpoints with a score"}
    (best, sb), (nxt, sn) = list(ranked.items())[:2]
    row.update(best=best, best_score=sb, next=nxt, next_score=sn, delta=sb - sn)
    if subsets is None:
        return {**row, "verdict": "not tested (a suite average under the paper's rules: see its tasks)"}
    paired = _paired((runs[nxt], runs[best]), subsets, problems)
    if paired is None:
        return {**row, "verdict": "not testable (per-item files missing)"}
    flat = [p for task in paired for p in task]
    weights = [1.0 / (len(paired) * len(task)) for task in paired for _ in task]  # tasks weigh equally
    g = subset_groups(flat, weights)
    p = permutation_p(g, cfg.n_resamples, cfg.seed)
    lo, hi = bootstrap_ci(g, cfg.n_resamples, cfg.seed)
    verdict = f"significantly better (p={p:.4f})" if p < cfg.alpha else f"not significantly better (p={p:.4f})"
    return {**row, "p": p, "ci_low": lo, "ci_high": hi, "verdict": verdict}


def _subsets_of(task: str, runs: list[ModelRun]) -> list[str]:
    return _common_subsets(task, [r for r in runs if task in r.tasks])[1]


def series(found: list[tuple[str, ModelRun]], cfg: CompareSettings | None = None) -> SeriesResult:
    cfg = cfg or CompareSettings()
    labels, runs = [lab for lab, _ in found], [r for _, r in found]
    notes: list[str] = []
    problems: list[Problem] = []
    tasks, subsets = task_scores(runs, labels, notes)
    common = list(subsets)
    overall = pd.DataFrame([tasks.loc[common].mean()], index=[OVERALL]) if common else pd.DataFrame(columns=labels)
    suites = suite_scores(runs, labels)
    scores = pd.concat([tasks, suites, overall])
    kind = pd.Series(["task"] * len(tasks) + ["suite"] * len(suites) + ["overall"] * len(overall), index=scores.index)
    by_label = dict(zip(labels, runs, strict=True))
    best = [best_vs_next(t, tasks.loc[t], by_label, {t: _subsets_of(t, runs)}, cfg, problems) for t in tasks.index]
    best += [best_vs_next(s, suites.loc[s], by_label, None, cfg, problems) for s in suites.index]
    if common:
        best.append(best_vs_next(OVERALL, overall.loc[OVERALL], by_label, {t: subsets[t] for t in common}, cfg,
                                 problems))
    return SeriesResult(labels, scores, kind, pd.DataFrame(best), notes, problems, cfg)
