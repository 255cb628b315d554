"""Verdicts per cell (OK / FAIL / MISSING, NO_PAPER where the paper has no value) and the summary line."""

from __future__ import annotations

import math

import pandas as pd

VERDICTS = ("OK", "FAIL", "MISSING")
NO_PAPER = "NO_PAPER"  # not "n/a": CSV readers (pandas) would turn that into NaN
_EPS = 1e-9  # 0.3 must accept a delta of exactly 0.3 despite float noise


def verdict(paper: float, ours: float, complete: bool, tolerance: float) -> str:
    """OK within tolerance, FAIL outside, MISSING when not run or incomplete (never scored as 0)."""
    if paper is None or math.isnan(paper):
        return NO_PAPER
    if ours is None or math.isnan(ours) or not complete:
        return "MISSING"
    return "OK" if abs(ours - paper) <= tolerance + _EPS else "FAIL"


def apply_verdicts(cells: pd.DataFrame, tolerance_for) -> pd.DataFrame:
    """Add tolerance, delta (only for complete values) and verdict; `tolerance_for(table_id)` from settings."""
    cells = cells.copy()
    cells["tolerance"] = cells["table_id"].map(tolerance_for)
    complete = cells["n"].eq(cells["n_expected"]) & cells["n"].gt(0)
    cells["delta"] = (cells["ours"] - cells["paper"]).where(complete)
    cells["verdict"] = [verdict(p, o, c, t) for p, o, c, t in
                        zip(cells["paper"], cells["ours"], complete, cells["tolerance"], strict=True)]
    return cells


def is_reproduction(cells: pd.DataFrame) -> pd.Series:
    """Cells of a paper model held against its own paper row. A custom checkpoint shown against the row
    of the model it was fine-tuned from is meant to differ: its verdicts are shown, not counted."""
    return cells["model"] == cells["paper_model_id"]


def counts(cells: pd.DataFrame, reproduction: bool = True) -> dict[str, int]:
    got = cells.loc[is_reproduction(cells) == reproduction, "verdict"].value_counts()
    return {v: int(got.get(v, 0)) for v in (*VERDICTS, NO_PAPER)}


def summary_line(c: dict[str, int], custom: dict[str, int] | None = None) -> str:
    line = f"OK {c['OK']} | FAIL {c['FAIL']} | MISSING {c['MISSING']}"
    if c.get(NO_PAPER):
        line += f" (+{c[NO_PAPER]} cells without a paper value)"
    if custom and any(custom[v] for v in VERDICTS):
        line += (f"; other checkpoints vs the paper row they derive from (not counted, not checked): "
                 f"OK {custom['OK']} | FAIL {custom['FAIL']} | MISSING {custom['MISSING']}")
    return line


def per_table_counts(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per table (and model): how many cells pass, fail, are missing."""
    from evaluation.report.paper import TABLES

    order = [*TABLES, *sorted(set(cells["table_id"]) - set(TABLES))]  # the paper's order, not alphabetical
    tab = pd.crosstab([cells["table_id"], cells["model"]], cells["verdict"])
    for v in (*VERDICTS, NO_PAPER):
        if v not in tab.columns:
            tab[v] = 0
    tab = tab[[*VERDICTS, NO_PAPER]].reset_index()
    tab.columns.name = None
    tab["rank"] = tab["table_id"].map(order.index)
    return tab.sort_values(["rank", "model"], kind="stable").drop(columns="rank").reset_index(drop=True)


def check_exit_code(cells: pd.DataFrame) -> int:
    """CHECK mode: non-zero on any FAIL of a paper model (MISSING does not fail: a partial run is not a
    regression; a custom checkpoint is expected to differ from the paper)."""
    return 1 if (is_reproduction(cells) & (cells["verdict"] == "FAIL")).any() else 0
