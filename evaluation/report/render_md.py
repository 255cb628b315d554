"""Markdown report: summary, problems, every paper table with verdicts, leaderboard, provenance."""

from __future__ import annotations

import pandas as pd

from evaluation.report import present


def md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "_none_\n"
    safe = df.astype(str).apply(lambda col: col.str.replace("|", "\\|", regex=False))
    return safe.to_markdown(index=False, disable_numparse=True) + "\n"


def _tables(report) -> list[str]:
    parts = []
    for tid, title, cells in present.sections(report.cells):
        parts.append(f"## {title}\n")
        if note := present.table_note(tid):
            parts.append(f"_Note: {note}_\n")
        parts.append(md_table(present.cell_view(cells)))
    if skipped := present.tables_not_run(report.cells):
        parts.append("Paper tables without any result here (their paper values: tables/verdicts.csv): "
                     + "; ".join(skipped) + ".\n")
    return parts


def render_markdown(report) -> str:
    s = report.settings
    parts = [f"# me5-eval report: {report.name}\n",
             f"**Summary: {report.summary}**\n",
             f"Tolerance {s.tolerance_default} points (per-table: "
             f"{', '.join(f'{k} {v}' for k, v in s.tolerance_tables.items()) or 'none'}). {present.LEGEND}\n",
             f"## Problems ({len(report.problems)})\n", md_table(present.problems_view(report.problems)),
             "## Verdicts per table and model\n", md_table(present.counts_view(report.cells)),
             *_tables(report)]
    col = s.sort_by
    parts += [f"## Leaderboard (sorted by {col})\n",
              md_table(present.leaderboard_view(report.leaderboard, report.coverage, col))]
    if note := present.leaderboard_mrtydi_note(report.leaderboard):
        parts.append(f"_Note: {note}_\n")
    for suite, title, first in (("miracl", "MIRACL dev nDCG@10 per language", "ar"),
                                ("mrtydi", "Mr.TyDi test MRR@10 per language", "ar")):
        vals, cov = report.languages[suite]
        parts += [f"## {title}\n", md_table(present.leaderboard_view(vals, cov, first))]
        if suite == "mrtydi" and (note := present.mrtydi_instruction_note(vals)):
            parts.append(f"_Note: {note}_\n")
    parts += ["## Inputs: models read, mteb versions\n", md_table(report.provenance),
              "## Revision choices (a task in several revision folders)\n", md_table(report.choices),
              "## Plots\n", "\n".join(f"![{p}](plots/{p}.png)" for p in report.plot_names) or "_none_", ""]
    return "\n".join(parts)
