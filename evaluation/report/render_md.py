"""Markdown report: summary, problems, every paper table with verdicts, leaderboard, provenance."""

from __future__ import annotations

import pandas as pd

from evaluation.report import present as P

LEGEND = (f"Values are points (score x 100). `paper` = the paper's number, `leaderboard` = the published mteb "
          f"result for that model (reference folder), `ours` = the results read here, `delta` = ours - paper. "
          f"OK: |delta| <= tol; FAIL: outside; MISSING: not run, or only part of the set ({P.INCOMPLETE} n/N: "
          f"mean over the available part, never filled with 0); NO_PAPER: the paper prints no value for that "
          f"cell (or the model has no paper row).")


def md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "_none_\n"
    safe = df.astype(str).apply(lambda col: col.str.replace("|", "\\|", regex=False))
    return safe.to_markdown(index=False, disable_numparse=True) + "\n"


def render_markdown(report) -> str:
    s = report.settings
    parts = [f"# me5-eval report: {report.name}\n",
             f"**Summary: {report.summary}**\n",
             f"Tolerance {s.tolerance_default} points (per-table: "
             f"{', '.join(f'{k} {v}' for k, v in s.tolerance_tables.items()) or 'none'}). {LEGEND}\n",
             f"## Problems ({len(report.problems)})\n", md_table(P.problems_view(report.problems)),
             "## Verdicts per table and model\n", md_table(P.counts_view(report.cells))]
    for _tid, title, cells in P.sections(report.cells):
        parts += [f"## {title}\n", md_table(P.cell_view(cells))]
    col = s.sort_by
    parts += [f"## Leaderboard (sorted by {col})\n",
              md_table(P.leaderboard_view(report.leaderboard, report.coverage, col))]
    for suite, title, first in (("miracl", "MIRACL dev nDCG@10 per language", "ar"),
                                ("mrtydi", "Mr.TyDi test MRR@10 per language", "ar")):
        vals, cov = report.languages[suite]
        parts += [f"## {title}\n", md_table(P.leaderboard_view(vals, cov, first))]
    parts += ["## Inputs: models read, mteb versions\n", md_table(report.provenance),
              "## Revision choices (a task in several revision folders)\n", md_table(report.choices),
              "## Plots\n", "\n".join(f"![{p}](plots/{p}.png)" for p in report.plot_names) or "_none_", ""]
    return "\n".join(parts)
