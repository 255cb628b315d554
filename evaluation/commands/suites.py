"""`me5-eval suites`: the suites (`suite=NAME`): how many tasks and task subsets, and what each is."""

from __future__ import annotations

import argparse
from dataclasses import astuple

from tabulate import tabulate

from evaluation.catalog import suite_rows


def suites_command(argv: list[str]) -> int:
    argparse.ArgumentParser(prog="me5-eval suites", description=__doc__).parse_args(argv)
    head = ["suite", "tasks", "subsets", "what it is"]
    print(tabulate([astuple(r) for r in suite_rows()], headers=head, tablefmt="github"))
    return 0
