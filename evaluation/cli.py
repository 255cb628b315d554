"""`me5-eval run|plan|score|report|compare|demo`.

Imports are deferred to each command, so `me5-eval --help` and `plan` never load torch or a model.
"""

from __future__ import annotations

import logging
import sys

USAGE = """usage: me5-eval COMMAND [ARGS]

commands:
  run [hydra overrides]      evaluate a model on a suite, e.g. run model=large suite=miracl data.root=../shared/data
  plan [hydra overrides]     dry run: every task x language x split with counts, texts to encode, GPU time, disk
  score RUN QRELS [--suite miracl|mrtydi|beir] [--per-query] [--save-json PATH ...]
                             trec_eval-style metrics of any TREC run file
  report [--results DIR] [--out DIR] [--check]
                             the paper's tables with deltas and verdicts, leaderboard, plots
  compare A B [--results DIR] per-task deltas with paired significance tests
  demo [--data DIR]          offline end-to-end run with all-MiniLM-L6-v2 on ../shared/data
  worker [hydra overrides]   encode corpus shards (what launchers run; shard=i, or --multirun shard=0,1,...)

overrides (Hydra): model=small|base|large|large-instruct|minilm|custom  suite=mteb-en|miracl|mrtydi|bucc|tatoeba|paper
  tasks=[A,B] langs=[x,y] data.root=DIR model.path=DIR protocol=paper|mteb shards=N launcher=local|gpus|joblib|slurm|ray
"""


def _run(argv: list[str]) -> int:
    from evaluation.runner import run_from_overrides

    run_from_overrides(argv)
    return 0


def _plan(argv: list[str]) -> int:
    from evaluation.plan import plan_command

    return plan_command(argv)


def _score(argv: list[str]) -> int:
    from evaluation.scoring import score_command

    return score_command(argv)


def _report(argv: list[str]) -> int:
    from evaluation.report.cli import report_command

    return report_command(argv)


def _compare(argv: list[str]) -> int:
    from evaluation.report.cli import compare_command

    return compare_command(argv)


def _demo(argv: list[str]) -> int:
    from evaluation.demo import demo_command

    return demo_command(argv)


def _worker(argv: list[str]) -> int:
    from evaluation.worker import worker_main

    return worker_main(argv)


_RESUME = ("the results and cached embeddings written so far are complete and kept (files are written whole or not "
           "at all); rerun the same command to resume: complete tasks and stored corpus shards are skipped")
INTERRUPTED = {"run": _RESUME, "worker": _RESUME, "demo": _RESUME,
               "other": "no file was left half-written; rerun the command"}

COMMANDS = {"run": _run, "plan": _plan, "score": _score, "report": _report, "compare": _compare,
            "demo": _demo, "worker": _worker}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"me5-eval: unknown command '{command}'; choose one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from evaluation.errors import Me5EvalError

    try:
        return COMMANDS[command](rest)
    except Me5EvalError as err:
        print(f"me5-eval {command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: every write is atomic, so what exists is whole; say so in one line
        print(f"\nme5-eval {command}: interrupted: {INTERRUPTED.get(command, INTERRUPTED['other'])}", file=sys.stderr)
        return 130  # 128 + SIGINT, what a shell reports for a program killed by Ctrl-C


if __name__ == "__main__":
    sys.exit(main())
