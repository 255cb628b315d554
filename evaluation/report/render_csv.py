"""CSV output: machine-readable copies of every table (numbers unformatted, NaN = empty)."""

from __future__ import annotations

from pathlib import Path

from evaluation.atomic import atomic_write_text
from evaluation.report import present
from evaluation.report.verdict import per_table_counts


def write_csvs(report, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = {"verdicts": report.cells.drop(columns="order"), "verdict_counts": per_table_counts(report.cells),
              "problems": present.problems_view(report.problems), "provenance": report.provenance,
              "revision_choices": report.choices}
    for tid in present.ALL_TABLES:  # every cell of the table, including paper models without results
        frames[tid] = report.cells[report.cells["table_id"] == tid].drop(columns="order")
    lb = report.leaderboard.merge(report.coverage, on=["model", "source"], suffixes=("", " coverage"))
    frames["leaderboard"] = lb
    for suite, (vals, cov) in report.languages.items():
        frames[f"languages_{suite}"] = vals.merge(cov, on=["model", "source"], suffixes=("", " coverage"))
    written = []
    for name, df in frames.items():
        path = out_dir / f"{name}.csv"
        atomic_write_text(path, df.to_csv(index=False, float_format="%.4f"))
        written.append(path)
    return written
