"""`me5-eval models`: the model configs (`model=NAME`): checkpoint, revision, dim and protocol."""

from __future__ import annotations

import argparse
from dataclasses import astuple

from tabulate import tabulate

from evaluation.catalog import model_rows


def models_command(argv: list[str]) -> int:
    argparse.ArgumentParser(prog="me5-eval models", description=__doc__).parse_args(argv)
    rows = [astuple(r) for r in model_rows()]
    head = ["config", "checkpoint", "weights", "revision", "dim", "protocol"]
    print(tabulate(rows, headers=head, tablefmt="github"))
    return 0
