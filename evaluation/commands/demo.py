"""`me5-eval demo` / `make demo`: an offline end-to-end run with all-MiniLM-L6-v2 on real local data, ending with
each task's score next to the published one."""

from __future__ import annotations

import argparse
from pathlib import Path

from evaluation.commands.run import run_command
from evaluation.compose import check_data_paths, compose_run_config
from evaluation.plan import cpu_cores, cpu_minutes, plan_rows

DEMO_TASKS = "[STSBenchmark,SciFact,Banking77Classification]"


def demo_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="me5-eval demo", description=__doc__)
    parser.add_argument("--data", default="../shared/data", help="the shared data folder (default ../shared/data)")
    parser.add_argument("--results", default="results", help="where result JSONs go")
    args = parser.parse_args(argv)
    overrides = ["model=minilm", "suite=mteb-en", f"tasks={DEMO_TASKS}", f"data.root={Path(args.data).resolve()}",
                 f"output.dir={args.results}"]
    cfg = compose_run_config(overrides)
    check_data_paths(cfg)
    rows = plan_rows(cfg)
    texts = sum(r.texts or 0 for r in rows)
    print(f"demo: {cfg.model.name} on {len(rows)} tasks, {texts:,} texts to encode: about "
          f"{cpu_minutes(rows, cfg.model, cpu_cores()):.0f} minutes on {cpu_cores()} idle CPU cores "
          "(me5-eval plan's estimate; a rerun reuses the cached embeddings and takes about a minute)", flush=True)
    return run_command(overrides)
