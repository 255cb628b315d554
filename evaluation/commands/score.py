"""`me5-eval score RUN QRELS [--suite S] [--per-query] [--save-json PATH ...]`: trec_eval-style output of any
TREC run, optionally stored as an mteb TaskResult JSON the report reads. The metrics are evaluation/scoring.py's."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from evaluation import trec_io
from evaluation.atomic import atomic_write_json
from evaluation.errors import ConfigError, DataFileError, Me5EvalError, MissingDataError
from evaluation.metrics.trec import Qrels, Run
from evaluation.scoring import (
    SUITE_METRICS,
    SUITE_SEMANTICS,
    metric_depth,
    mteb_retrieval_scores,
    score_run,
    supported_scores,
    trec_retrieval_scores,
)
from evaluation.suites import ignores_identical_ids, mteb_task


def format_trec_eval(
    overall: Mapping[str, float], per_query: Mapping[str, Mapping[str, float]], per_query_flag: bool
) -> str:
    """trec_eval's text output: ``%-22s\\t%s\\t%6.4f`` per measure, per query (``-q``) then "all"."""
    lines = []
    if per_query_flag:
        for qid in sorted(per_query):
            lines += [f"{name:<22}\t{qid}\t{value:6.4f}" for name, value in per_query[qid].items()]
    lines += [f"{name:<22}\tall\t{value:6.4f}" for name, value in overall.items()]
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="me5-eval score",
        description="Score a TREC run against qrels with trec_eval's flags (-c -M 100).",
    )
    p.add_argument("run", type=Path, help="TREC run: qid Q0 docid rank score tag")
    p.add_argument("qrels", type=Path, help="TREC qrels (qid Q0 docid rel) or BEIR qrels tsv")
    p.add_argument(
        "--suite",
        choices=sorted(SUITE_METRICS),
        default="miracl",
        help="metric set (printed with trec_eval -c -M 100); --save-json uses trec_eval semantics for "
        "miracl/mrtydi and mteb's for beir",
    )
    p.add_argument("--per-query", action="store_true", help="also print each query (trec_eval -q)")
    p.add_argument("--save-json", type=Path, metavar="PATH", help="write/merge an mteb TaskResult JSON")
    p.add_argument("--model", help="model name recorded in the JSON (required with --save-json)")
    p.add_argument("--task", help="mteb task name, e.g. MIRACLRetrieval (required with --save-json)")
    p.add_argument("--subset", default="default", help="mteb hf_subset, e.g. ar or arabic")
    p.add_argument("--split", help="split name (default: the task's first eval split)")
    return p


def _read(path: Path, what: str, reader: Any) -> Any:
    if not path.is_file():
        raise MissingDataError(what, [path])
    return reader(path)


def score_command(argv: list[str]) -> int:
    """``me5-eval score RUN QRELS ...``: print trec_eval-style scores; 2 on a user error."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error (or --help) already
        return int(exc.code or 0)
    if args.save_json and not (args.model and args.task):
        print("error: --save-json needs --model and --task", file=sys.stderr)
        return 2
    try:
        run = _read(args.run, "run file", trec_io.read_run)
        qrels = _read(args.qrels, "qrels file", trec_io.read_qrels)
        overall, per_query = score_run(run, qrels, args.suite, per_query=args.per_query)
        sys.stdout.write(format_trec_eval(overall, per_query, args.per_query))
        if args.save_json:
            _save_task_result(args, run, qrels)
    except Me5EvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _task_metadata(task_name: str, subset: str) -> tuple[Any, list[str]]:
    """mteb's metadata of the task and the languages of ``subset`` (both checked)."""
    meta = mteb_task(task_name).metadata  # ConfigError naming the fix for an unknown task
    langs = meta.hf_subsets_to_langscripts
    if subset not in langs:
        raise ConfigError(f"task {task_name} has no subset {subset!r}; choose one of {', '.join(langs)}")
    return meta, list(langs[subset])


def _save_task_result(args: argparse.Namespace, run: Run, qrels: Qrels) -> None:
    """Write (or merge into) an mteb TaskResult JSON: one entry per (split, hf_subset)."""
    import mteb

    meta, languages = _task_metadata(args.task, args.subset)
    split = args.split or meta.eval_splits[0]
    if SUITE_SEMANTICS[args.suite] == "trec":
        scores = trec_retrieval_scores(run, qrels, args.suite)
    else:  # as mteb scores the task (ArguAna, Quora...: a document with the query's id is not counted)
        scores = mteb_retrieval_scores(run, qrels, ignore_identical_ids=ignores_identical_ids(args.task))
    scores = _within_run_depth(scores, run, meta.main_score, args)
    entry = {
        "hf_subset": args.subset,
        "languages": languages,
        "main_score": scores[meta.main_score],
        **scores,
    }
    doc = _load_existing(args.save_json, args.task) or {
        "dataset_revision": meta.dataset["revision"],
        "task_name": args.task,
        "mteb_version": mteb.__version__,
        "scores": {},
        "evaluation_time": None,
        "kg_co2_emissions": None,
    }
    entries = [e for e in doc["scores"].get(split, []) if e.get("hf_subset") != args.subset]
    doc["scores"][split] = sorted([*entries, entry], key=lambda e: e["hf_subset"])
    doc.setdefault("me5_eval", {})[f"{split}/{args.subset}"] = {
        "model": args.model,
        "run": str(args.run),
        "qrels": str(args.qrels),
        "suite": args.suite,
        "semantics": "trec_eval -c -M 100" if SUITE_SEMANTICS[args.suite] == "trec" else "mteb",
    }
    atomic_write_json(args.save_json, dict(doc))


def _within_run_depth(scores: dict[str, float], run: Run, main: str, args: argparse.Namespace) -> dict[str, float]:
    """The metrics the run is deep enough for (scoring.supported_scores: a recall_at_1000 of a 100-deep run is
    recall at 100 under another name); those down to the main score's depth always stay (the task's own cut-off:
    a 3-document run's nDCG@10 is what trec_eval gives it). stderr names what was left out."""
    depth = max((len(docs) for docs in run.values()), default=0)
    kept = supported_scores(scores, max(depth, metric_depth(main)))
    dropped = sorted(set(scores) - set(kept), key=lambda k: (metric_depth(k), k))
    if dropped:
        print(f"note: {len(dropped)} metrics need more than the run's {depth} documents per query and are not stored "
              f"(e.g. {dropped[0]})", file=sys.stderr)
    return kept


def _load_existing(path: Path, task: str) -> dict[str, Any] | None:
    """A result file written before (other subsets), or None; refuse one for another task."""
    if not path.is_file():  # a folder there: the write names it
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataFileError(
            path, None, f"not a valid result JSON ({exc}); move it away or pick another path"
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("scores"), dict) or doc.get("task_name") != task:
        raise DataFileError(path, None, f"exists but is not an mteb TaskResult of {task}; pick another path")
    return doc
