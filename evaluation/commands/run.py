"""`me5-eval run [overrides]`: compose the config and run it (evaluation/runner.py)."""

from __future__ import annotations

from evaluation.runner import run_from_overrides


def run_command(argv: list[str]) -> int:
    run_from_overrides(argv)
    return 0
