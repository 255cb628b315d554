"""`me5-eval report`: the paper's tables with deltas and verdicts, the leaderboard, plots (evaluation/report/).

Exit codes: 0 built; 1 `--check` found a FAIL of a counted cell; 2 a user error (missing results folder, nothing
readable in it, bad config), printed as one line by evaluation/cli.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from evaluation.report.build import build_report, write_report
from evaluation.report.settings import load_settings
from evaluation.report.verdict import check_exit_code

MAX_FAILS_PRINTED = 30


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="me5-eval report",
                                description="Paper tables with deltas and verdicts, leaderboard, plots.")
    p.add_argument("--results", action="append", metavar="DIR",
                   help="results root, model folder or revision folder in mteb's layout (repeatable; every one "
                        "is read; default: results/)")
    p.add_argument("--reference", metavar="DIR",
                   help="published mteb results for the leaderboard (default: report.yaml reference_dir; 'none': skip)")
    p.add_argument("--out", default="reports", metavar="DIR", help="reports root (default: reports/)")
    p.add_argument("--name", help="report folder name under --out (default: name of the first --results)")
    p.add_argument("--check", action="store_true", help="exit 1 if a counted cell FAILs (regression mode)")
    p.add_argument("--tolerance", type=float, metavar="X", help="tolerance in points for every table")
    p.add_argument("--config", metavar="YAML", help="report settings (default: evaluation/conf/report.yaml)")
    p.add_argument("--sort-by", metavar="COLUMN", help="leaderboard column the Markdown is sorted by")
    p.add_argument("--no-plots", action="store_true", help="skip the plots (a quicker CHECK run in CI)")
    return p


def report_command(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings(args.config)
    if args.tolerance is not None:
        settings.with_tolerance(args.tolerance)
    if args.sort_by:
        settings.sort_by = args.sort_by
    results = [Path(d) for d in (args.results or [Path("results")])]
    reference = None if (args.reference or "").lower() == "none" else (
        Path(args.reference) if args.reference else settings.reference_dir)
    name = args.name or results[0].resolve().name
    report = build_report(results, reference, settings, name=name, command=argv)
    out = Path(args.out) / name
    write_report(report, out, plots=not args.no_plots)
    print(f"report written to {out}/ (report.md, report.html, report.tex, tables/, plots/, inputs.json)")
    print(f"summary: {report.summary}")
    if report.problems:
        print(f"problems: {len(report.problems)} (see the Problems section)")
    if not args.check:
        return 0
    cells = report.cells
    fails = cells[cells["counted"].astype(bool) & (cells["verdict"] == "FAIL")]
    for _, c in fails.head(MAX_FAILS_PRINTED).iterrows():
        print(f"FAIL {c['table_id']} {c['paper_row']} {c['model']}: ours {c['ours']:.2f} vs "
              f"{c['ours'] - c['delta']:.2f} (delta {c['delta']:+.2f}, tol {c['tolerance']})")
    if len(fails) > MAX_FAILS_PRINTED:
        print(f"... and {len(fails) - MAX_FAILS_PRINTED} more FAIL cells (tables/verdicts.csv)")
    return check_exit_code(cells)
