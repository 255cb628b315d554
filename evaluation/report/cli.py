"""Entry points `report_command(argv)` and `compare_command(argv)` (wired into the main CLI / Makefile).

Also runnable alone: `python -m evaluation.report.cli report --results results --check`,
`python -m evaluation.report.cli compare A B --results results`.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from evaluation.errors import Me5EvalError
from evaluation.report.settings import REPO, load_settings


def _report_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="me5-eval report",
                                description="Paper tables with deltas and verdicts, leaderboard, plots.")
    p.add_argument("--results", action="append", metavar="DIR",
                   help="folder in mteb's results layout (repeatable; default: results/)")
    p.add_argument("--reference", metavar="DIR",
                   help="published mteb results for the leaderboard (default: conf/report.yaml; 'none' to skip)")
    p.add_argument("--out", default="reports", metavar="DIR", help="reports root (default: reports/)")
    p.add_argument("--name", help="report folder name under --out (default: name of the first --results)")
    p.add_argument("--check", action="store_true", help="exit 1 if a paper model has a FAIL cell (regression mode)")
    p.add_argument("--tolerance", type=float, metavar="X", help="tolerance in points for every table")
    p.add_argument("--config", metavar="YAML", help="report settings (default: conf/report.yaml)")
    p.add_argument("--sort-by", metavar="COLUMN", help="leaderboard column the Markdown is sorted by")
    p.add_argument("--no-plots", action="store_true", help="skip the plots (a quicker CHECK run in CI)")
    return p


def report_command(argv: list[str] | None = None) -> int:
    """Build reports/<name>/; 0 on success, 1 in --check mode with a FAIL, 2 on a user error."""
    from evaluation.report.build import build_report, write_report
    from evaluation.report.verdict import check_exit_code, is_reproduction

    argv = list(sys.argv[1:] if argv is None else argv)
    args = _report_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        if args.tolerance is not None:
            settings.with_tolerance(args.tolerance)
        if args.sort_by:
            settings.sort_by = args.sort_by
        results = [Path(d) for d in (args.results or [REPO / "results"])]
        reference = None if (args.reference or "").lower() == "none" else (
            Path(args.reference) if args.reference else settings.reference_dir)
        name = args.name or results[0].resolve().name
        report = build_report(results, reference, settings, name=name, command=argv)
        out = Path(args.out) / name
        write_report(report, out, plots=not args.no_plots)
    except Me5EvalError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"report written to {out}/ (report.md, report.html, report.tex, tables/, plots/, inputs.json)")
    print(f"summary: {report.summary}")
    if report.problems:
        print(f"problems: {len(report.problems)} (see the Problems section)")
    if not args.check:
        return 0
    rc = check_exit_code(report.cells)
    fails = report.cells[is_reproduction(report.cells) & (report.cells["verdict"] == "FAIL")]
    for _, c in fails.head(30).iterrows():
        print(f"FAIL {c['table_id']} {c['paper_row']} {c['model']}: ours {c['ours']:.2f} vs paper "
              f"{c['paper']:.1f} (delta {c['delta']:+.2f}, tol {c['tolerance']})")
    if len(fails) > 30:
        print(f"... and {len(fails) - 30} more FAIL cells (tables/verdicts.csv)")
    return rc


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name.replace("/", "__"))


def compare_command(argv: list[str] | None = None) -> int:
    """`compare A B --results DIR --out DIR`: writes <out>/compare__A__vs__B/; 0 on success, 2 on a user error."""
    from evaluation.report.compare import compare
    from evaluation.report.render_compare import write_compare

    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="me5-eval compare", description="Is checkpoint B really better than A?")
    p.add_argument("a", metavar="A", help="baseline model (hub id or results folder name)")
    p.add_argument("b", metavar="B", help="candidate model")
    p.add_argument("--results", default=str(REPO / "results"), metavar="DIR")
    p.add_argument("--out", default="reports", metavar="DIR")
    p.add_argument("--config", metavar="YAML")
    args = p.parse_args(argv)
    try:
        cfg = load_settings(args.config).compare
        res = compare(args.results, args.a, args.b, cfg)
        out = Path(args.out) / f"compare__{_slug(args.a)}__vs__{_slug(args.b)}"
        write_compare(res, out, command=argv)
    except Me5EvalError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(res.summary)
    print(f"written to {out}/ (compare.md, compare.html, compare_*.csv)")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"report": report_command, "compare": compare_command}
    if not argv or argv[0] not in commands:
        print("usage: python -m evaluation.report.cli {report,compare} ...", file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
