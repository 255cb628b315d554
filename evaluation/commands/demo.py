"""`me5-eval demo` / `make demo`: an offline end-to-end run with all-MiniLM-L6-v2 on real local data."""

from __future__ import annotations

import argparse
from pathlib import Path

DEMO_TASKS = "[STSBenchmark,SciFact,Banking77Classification]"


def demo_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="me5-eval demo", description=__doc__)
    parser.add_argument("--data", default="../shared/data", help="the shared data folder (default ../shared/data)")
    parser.add_argument("--results", default="results", help="where result JSONs go")
    args = parser.parse_args(argv)
    from evaluation.runner import run_from_overrides

    run_from_overrides(["model=minilm", "suite=mteb-en", f"tasks={DEMO_TASKS}",
                        f"data.root={Path(args.data).resolve()}", f"output.dir={args.results}"])
    return 0
