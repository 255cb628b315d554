"""Verdicts per cell and the counts behind the summary line.

OK / FAIL: a complete value within / outside the tolerance of the reference value (the paper's number for the
`paper` family of cells, the published mteb result for the `published` family); PARTIAL: only part of the set was
run (the partial mean is shown, never compared, never filled with 0); MISSING: not run; NO_PAPER: the paper prints
no value for that cell (or the model has no paper row). Counts are over what was run: models with no result at
all are counted apart, so a partial run reads as partial.
"""

from __future__ import annotations

import math

import pandas as pd

from evaluation.report.paper import TABLES

VERDICTS = ("OK", "FAIL", "PARTIAL", "MISSING")
NO_PAPER = "NO_PAPER"  # not "n/a": CSV readers (pandas) would turn that into NaN
NOT_RUN = "not run"  # relation of a paper model's cells when no result is held against it
FAMILIES = {"paper": "vs the paper", "published": "vs published mteb results"}
_EPS = 1e-9  # 0.3 must accept a delta of exactly 0.3 despite float noise


def verdict(reference: float, ours: float, n: int, n_expected: int, tolerance: float,
            compare_partial: bool = False) -> str:
    """`compare_partial`: a mean over part of the set is compared (published cells: both sides use the same
    subsets); otherwise it is PARTIAL."""
    if reference is None or math.isnan(reference):
        return NO_PAPER
    if ours is None or math.isnan(ours) or n == 0:
        return "MISSING"
    if n != n_expected and not compare_partial:
        return "PARTIAL"
    return "OK" if abs(ours - reference) <= tolerance + _EPS else "FAIL"


def apply_verdicts(cells: pd.DataFrame, tolerance_for) -> pd.DataFrame:
    """Add tolerance, delta (ours - the family's reference), delta_lb (ours - leaderboard, paper family), the
    paper-vs-leaderboard `disagree` marker and the verdict; `tolerance_for(table_id)` comes from the settings."""
    c = cells.copy()
    c["tolerance"] = c["table_id"].map(tolerance_for).astype(float)
    paper = c["family"].eq("paper")
    reference = c["paper"].where(paper, c["leaderboard"]).astype(float)
    c["verdict"] = [verdict(r, o, n, ne, t, compare_partial=not p) for r, o, n, ne, t, p in
                    zip(reference, c["ours"], c["n"], c["n_expected"], c["tolerance"], paper, strict=True)]
    compared = c["verdict"].isin(["OK", "FAIL"])
    complete = c["n"].gt(0) & c["n"].eq(c["n_expected"])
    c["delta"] = (c["ours"] - reference).where(compared)
    c["delta_lb"] = (c["ours"] - c["leaderboard"]).where(complete & paper)
    # The paper's number itself is not what the published checkpoint scores (mE5-small Tatoeba 64.2 vs 68.94).
    c["disagree"] = paper & (c["paper"] - c["leaderboard"]).abs().gt(c["tolerance"] + _EPS)
    return c


def counts(cells: pd.DataFrame) -> dict[str, int]:
    """Verdict counts over the cells of runs (cells of paper models without any result are left out)."""
    got = cells.loc[cells["relation"] != NOT_RUN, "verdict"].value_counts()
    return {v: int(got.get(v, 0)) for v in (*VERDICTS, NO_PAPER)}


def _family_line(label: str, c: dict[str, int]) -> str:
    total = sum(c[v] for v in VERDICTS)  # cells with a reference value
    run = c["OK"] + c["FAIL"]
    line = f"{label}: {run} of {total} cells run: {c['OK']} OK, {c['FAIL']} FAIL"
    if c["PARTIAL"]:
        line += f"; {c['PARTIAL']} partly run (mean over part of the set, not compared)"
    if c["MISSING"]:
        line += f"; {c['MISSING']} not run"
    return line


def summary_line(cells: pd.DataFrame) -> str:
    """E.g. 'vs published mteb results: 3 of 3 cells run: 3 OK, 0 FAIL | vs the paper: no paper model run'."""
    parts = []
    for family, label in FAMILIES.items():
        fam = cells[cells["family"] == family]
        counted = fam[fam["counted"].astype(bool)]
        if counted.empty:
            if family == "paper":
                parts.append(f"{label}: no paper model run")
            continue
        parts.append(_family_line(label, counts(counted)))
    others = cells[~cells["counted"].astype(bool) & cells["relation"].isin(["variant", "derived"])]
    if not others.empty:
        c = counts(others)
        parts.append(f"variants and derived checkpoints (shown, not counted): {c['OK']} OK, {c['FAIL']} FAIL, "
                     f"{c['PARTIAL']} partly run")
    not_run = cells.loc[cells["relation"] == NOT_RUN, "model"].nunique()
    if not_run:
        parts.append(f"{not_run} paper models without results here (not counted)")
    return " | ".join(parts)


def per_table_counts(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per table (and model that was run): how many cells pass, fail, are partial or missing."""
    ran = cells[cells["relation"] != NOT_RUN]
    order = [*TABLES, *sorted(set(ran["table_id"]) - set(TABLES))]  # the paper's order, not alphabetical
    tab = pd.crosstab([ran["table_id"], ran["model"]], ran["verdict"])
    for v in (*VERDICTS, NO_PAPER):
        if v not in tab.columns:
            tab[v] = 0
    tab = tab[[*VERDICTS, NO_PAPER]].reset_index()
    tab.columns.name = None
    tab["rank"] = tab["table_id"].map(order.index)
    return tab.sort_values(["rank", "model"], kind="stable").drop(columns="rank").reset_index(drop=True)


def check_exit_code(cells: pd.DataFrame) -> int:
    """CHECK mode: 1 on any FAIL of a counted cell (a reproduction), else 0. PARTIAL / MISSING do not fail (a
    partial run is not a regression); variants and fine-tunes are expected to differ."""
    return 1 if (cells["counted"].astype(bool) & (cells["verdict"] == "FAIL")).any() else 0
