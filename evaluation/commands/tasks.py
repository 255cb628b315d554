"""`me5-eval tasks [--suite S] [--data DIR]`: the tasks of a suite, as mteb's `available-tasks` lists them, plus
whether a local copy under data.root is used."""

from __future__ import annotations

import argparse
from dataclasses import astuple

from tabulate import tabulate

from evaluation.catalog import task_rows
from evaluation.compose import check_data_paths, compose_run_config, group_choices


def tasks_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="me5-eval tasks", description=__doc__)
    parser.add_argument("--suite", default="paper", choices=group_choices("suite"), help="default: paper (all)")
    parser.add_argument("--data", help="local data root (default: data.root of the config, $ME5_EVAL_DATA)")
    args = parser.parse_args(argv)
    cfg = compose_run_config([f"suite={args.suite}", *([f"data.root={args.data}"] if args.data else [])])
    check_data_paths(cfg)
    rows = [astuple(r) for r in task_rows(cfg)]
    head = ["task", "type", "split", "subsets", "main score", f"local data ({cfg.data.root or 'data.root unset'})"]
    print(tabulate(rows, headers=head, tablefmt="github"))
    return 0
