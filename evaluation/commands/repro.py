"""`me5-eval repro` / `make repro-offline`: the offline reproduction (evaluation/repro/): print the plan and its time
estimate, run every task (resuming), build reports/repro-offline/. `--check` reruns into a scratch folder from the
embedding cache and exits 1 if any score moved from the committed results by more than --tolerance points."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from evaluation.repro.check import DEFAULT_TOLERANCE, check
from evaluation.repro.offline import REPRO_TASKS, ReproSettings, configs, plan_text, run_tasks
from evaluation.repro.report import write_repro_report


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="me5-eval repro", description=__doc__.split("\n")[0])
    p.add_argument("--data", default="../shared/data", help="the shared data folder (default ../shared/data)")
    p.add_argument("--results", default="results/repro-offline", help="results root (committed)")
    p.add_argument("--cache", default=".cache/me5-eval", help="embedding cache and converted model")
    p.add_argument("--out", default="reports", help="reports root; the report goes to OUT/repro-offline/")
    p.add_argument("--tasks", help=f"comma-separated subset of: {','.join(REPRO_TASKS)}")
    p.add_argument("--langs", help="comma-separated Tatoeba languages (default: all 112)")
    p.add_argument("--check", action="store_true", help="rerun into a scratch folder and compare with --results")
    p.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE, help="--check: points a score may move")
    p.add_argument("--no-report", action="store_true", help="run only (no report)")
    p.add_argument("--plan", action="store_true", help="print the plan and stop")
    p.add_argument("--report-only", action="store_true", help="rebuild the report from the results as they are")
    return p


def repro_command(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    s = ReproSettings(Path(args.data), Path(args.results), Path(args.cache),
                      tuple(args.tasks.split(",")) if args.tasks else REPRO_TASKS,
                      tuple(args.langs.split(",")) if args.langs else None,
                      command="me5-eval repro " + " ".join(argv))
    reference = s.data_root.resolve() / "reference" / "mteb-results"
    if args.report_only:
        return _report(s, reference, Path(args.out))
    if args.check:
        moved = check(s, args.tolerance, on_task=_progress)
        for line in moved.lines:
            print(line)
        print(moved.summary)
        return 1 if moved.failed else 0
    cfgs = configs(s)
    print(plan_text(cfgs), flush=True)
    if args.plan:
        return 0
    start = time.perf_counter()
    info = run_tasks(s, cfgs, on_task=_progress)
    print(f"results in {s.results}/ ({time.perf_counter() - start:.0f} s this time; computing took "
          f"{info.get('total_seconds', 0):.0f} s in all)")
    return 0 if args.no_report else _report(s, reference, Path(args.out))


def _report(s: ReproSettings, reference: Path, out: Path) -> int:
    folder = write_repro_report(s.results, reference, out)
    print(f"report written to {folder}/ (README.md, tatoeba.md, report.md, tables/, plots/)")
    return 0


def _progress(i: int, n: int, task: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] task {i}/{n}: {task}", flush=True)
