"""`me5-eval plan [overrides]`: the dry run's table (evaluation/plan.py) for a composed config; no model loaded."""

from __future__ import annotations

import argparse

from evaluation.compose import compose_run_config
from evaluation.plan import format_plan, plan_rows


def plan_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="me5-eval plan", description="dry run: counts and estimates")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, as for `me5-eval run`")
    args = parser.parse_args(argv)
    cfg = compose_run_config(args.overrides)
    print(format_plan(cfg, plan_rows(cfg)))
    return 0
