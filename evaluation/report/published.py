"""Cells "ours vs the published mteb result", for every run held against a checkpoint with published results.

One cell per task: main score, mean over the subsets both have (a partial run is compared on what it ran and says
`n of N subsets`). These cells are counted (and fail `--check`) for checkpoints the paper does not report (e.g.
all-MiniLM-L6-v2: the leaderboard is their only reference). Paper models are counted against the paper; their
rows here are shown for information (e.g. a variant's partial Tatoeba run on the languages it ran).
"""

from __future__ import annotations

import math

import pandas as pd

from evaluation.report.aggregate import mteb_en_specs
from evaluation.report.collect import ModelRun
from evaluation.report.result_file import TaskFile
from evaluation.report.settings import ReportSettings
from evaluation.report.tables import CELL_COLUMNS, REPRODUCTION, Scored, relation_note, target_of
from evaluation.report.verdict import apply_verdicts

PUBLISHED_TABLE = "published"
PUBLISHED_TITLE = "Published mteb results (leaderboard) vs ours, per task"


def main_scores(tf: TaskFile, split: str) -> dict[str, float]:
    """hf_subset -> main score in points, for the subsets with a number (NaN = missing, never 0)."""
    out = {}
    for e in tf.scores.get(split, []):
        v = e.get("main_score")
        if isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v):
            out[str(e.get("hf_subset"))] = 100.0 * float(v)
    return out


def score_split(task: str, ours: TaskFile, published: TaskFile) -> str | None:
    """The split a task is scored on: MTEB(eng, v1)'s for its tasks (MSMARCO: dev), else test, else the first
    split both files hold."""
    shared = sorted(ours.scores.keys() & published.scores.keys())
    bench = {t.task: t.split for t in mteb_en_specs()}.get(task)
    for split in (bench, "test"):
        if split in shared:
            return split
    return shared[0] if shared else None


def _cell(task: str, ours: TaskFile, published: TaskFile) -> dict:
    split = score_split(task, ours, published)
    a, b = (main_scores(ours, split), main_scores(published, split)) if split else ({}, {})
    both = sorted(a.keys() & b.keys())
    mean = (lambda d: sum(d[s] for s in both) / len(both)) if both else (lambda d: math.nan)
    note = "" if len(both) == len(b) else f"mean over the {len(both)} of {len(b)} subsets run"
    return {"task": task, "subset": split or "", "paper_row": task, "ours": mean(a), "leaderboard": mean(b),
            "n": len(both), "n_expected": len(b), "note": note}


def published_cells(ours: list[Scored], published: dict[str, ModelRun], paper_ids: set[str],
                    settings: ReportSettings) -> pd.DataFrame:
    """One cell per task for every run held against a published checkpoint (never a run of the published
    folder itself: that would compare a file with itself)."""
    rows = []
    for s in ours:
        target, relation = target_of(s.run, set(published), settings)
        ref = published.get(target) if target else None
        if ref is None or ref.folder.resolve() == s.run.folder.resolve():
            continue
        for task in sorted(s.run.tasks.keys() & ref.tasks.keys()):
            rows.append({**_cell(task, s.run.tasks[task], ref.tasks[task]), "model": s.run.name,
                         "relation": relation, "relation_note": relation_note(s.run, relation, target),
                         "checkpoint": target, "counted": relation == REPRODUCTION and target not in paper_ids})
    if not rows:
        return pd.DataFrame(columns=CELL_COLUMNS)
    cells = pd.DataFrame(rows).assign(family=PUBLISHED_TABLE, table_id=PUBLISHED_TABLE, table=PUBLISHED_TITLE,
                                      paper_model="", metric="main_score", derived=False, paper=math.nan,
                                      source="published mteb result (reference folder)")
    cells["order"] = range(len(cells))
    return apply_verdicts(cells[CELL_COLUMNS], settings.tolerance)
