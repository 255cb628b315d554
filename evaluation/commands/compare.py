"""`me5-eval compare A B [C ...]`: two runs -> per-task deltas with paired tests on the reported metric; three or
more -> a checkpoint series (table, curves, best checkpoint vs the next best). Each argument is a results folder
(a root holding one model, an <org__model> folder or a <revision> folder) or a model name found in --results.

Exit codes: 0 written; 2 a user error (missing folder, nothing readable, unknown or ambiguous model).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from tabulate import tabulate

from evaluation.report.collect import Collection, require_folder
from evaluation.report.compare import compare_runs, resolve_runs
from evaluation.report.present import fmt
from evaluation.report.render_compare import series_table, write_compare, write_series
from evaluation.report.series import series
from evaluation.report.settings import load_settings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="me5-eval compare", description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", metavar="RUN", help="a results folder or a model name (2: A B; 3+: a series)")
    p.add_argument("--results", action="append", metavar="DIR",
                   help="where model names are looked up (repeatable; every one is searched; default: results/)")
    p.add_argument("--data", metavar="DIR", help="local data to show the differing items' text (default: the data "
                                                 "folder each result records)")
    p.add_argument("--out", default="reports", metavar="DIR", help="reports root (default: reports/)")
    p.add_argument("--config", metavar="YAML", help="compare settings (default: evaluation/conf/report.yaml)")
    return p


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name.replace("/", "__"))


def _print_pair(res) -> None:
    rows = [[t.task, fmt(t.score_a), fmt(t.score_b), fmt(t.delta, signed=True), fmt(t.p_holm, 4), t.verdict]
            for t in res.tasks.itertuples()]
    print(tabulate(rows, headers=["task", f"A: {res.model_a}", f"B: {res.model_b}", "delta (B-A)", "p (Holm)",
                                  "verdict"], tablefmt="github", disable_numparse=True))
    for t in res.tasks.itertuples():
        if t.subsets_differ:
            print(f"{t.task}: {t.subsets_differ}")
    print(res.summary)


def compare_command(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if len(args.runs) < 2:
        _parser().error("give at least two runs (A B), or three or more for a checkpoint series")
    roots = [require_folder(Path(d)) for d in args.results] if args.results else [Path("results")]
    cfg = load_settings(args.config).compare
    coll = Collection()
    found = resolve_runs(args.runs, roots, coll)
    if len(found) == 2:
        res = compare_runs(found[0], found[1], cfg, Path(args.data) if args.data else None, coll.problems)
        out = Path(args.out) / f"compare__{_slug(res.model_a)}__vs__{_slug(res.model_b)}"
        write_compare(res, out, command=argv)
        _print_pair(res)
        print(f"written to {out}/ (compare.md, compare.html, compare_*.csv)")
        return 0
    res = series(found, cfg)
    res.problems[:0] = coll.problems
    out = Path(args.out) / f"series__{_slug(res.labels[0])}__to__{_slug(res.labels[-1])}"
    write_series(res, out, command=argv)
    print(tabulate(series_table(res), headers="keys", tablefmt="github", showindex=False, disable_numparse=True))
    print(res.summary)
    print(f"written to {out}/ (series.md, series.html, series.csv, plots/series.png)")
    return 0
