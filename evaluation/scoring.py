"""Suite metric sets and the scoring entry points (``score_run``, ``me5-eval score``).

Which one the runner calls:
* MIRACL and Mr.TyDi -> ``trec_retrieval_scores``: the paper numbers come from trec_eval run as
  ``trec_eval -c -M 100`` (Pyserini's MIRACL/Mr.TyDi recipes), so the suite's metrics use those
  flags; the other keys come from mteb so the result file has every key a model result has.
* mteb tasks such as SciFact (suite "beir") -> ``mteb_retrieval_scores``: mteb's own functions,
  so the scores equal mteb's by construction.

The numeric difference: mteb averages over the queries present in BOTH the run and the qrels,
trec_eval -c over all (judged) qrels queries, a missing query scoring 0. With n of N qrels
queries absent from the run, trec value = mteb value * (N - n) / N; with none absent they agree
(mteb rounds nDCG/recall/MAP/P to 5 decimals; its MRR sorts float64 scores where trec_eval uses
float32, which only matters for scores tied in float32). mteb's own pipeline retrieves for every
query, so the two differ only for runs that skip queries (e.g. a BM25 run with empty results).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evaluation import trec_io
from evaluation.atomic import atomic_write_json
from evaluation.errors import ConfigError, DataError, DataFileError, Me5EvalError, MissingDataError
from evaluation.metrics.mrr import reciprocal_rank
from evaluation.metrics.ndcg import ndcg_cut
from evaluation.metrics.recall import recall_cut
from evaluation.metrics.trec import Qrels, Run, TrecMeasure, evaluate, judged_queries, mean

log = logging.getLogger(__name__)

# Every suite runs under trec_eval -M 100. MIRACL: nDCG@10, R@100. Mr.TyDi: MRR@100 (its paper
# metric), MRR@10, R@100, plus nDCG@10 because it is mteb's main score for MrTidyRetrieval.
SUITE_METRICS: dict[str, tuple[TrecMeasure, ...]] = {
    "miracl": (ndcg_cut(10, depth=100), recall_cut(100, depth=100)),
    "mrtydi": (
        reciprocal_rank(100),
        reciprocal_rank(10),
        recall_cut(100, depth=100),
        ndcg_cut(10, depth=100),
    ),
    "beir": (ndcg_cut(10, depth=100), recall_cut(100, depth=100)),
}
# mteb's main_score of MIRACLRetrieval, MrTidyRetrieval and the BEIR tasks; the paper's headline
# metric per suite is PAPER_SCORE.
MAIN_SCORE = "ndcg_at_10"
PAPER_SCORE = {"miracl": "ndcg_at_10", "mrtydi": "mrr_at_100", "beir": "ndcg_at_10"}
# Which entry point gives the suite's result-file scores (see module docstring).
SUITE_SEMANTICS = {"miracl": "trec", "mrtydi": "trec", "beir": "mteb"}
MTEB_K_VALUES = (1, 3, 5, 10, 20, 100, 1000)


def _check_suite(suite: str) -> tuple[TrecMeasure, ...]:
    if suite not in SUITE_METRICS:
        raise ConfigError(f"unknown suite {suite!r}; choose one of {', '.join(SUITE_METRICS)}")
    return SUITE_METRICS[suite]


def _check_overlap(run: Run, qrels: Qrels) -> None:
    """Sharing no query id is almost always the wrong qrels file (or language): say so."""
    judged = judged_queries(qrels)
    if not judged:
        raise DataError("the qrels hold no judged query")
    if not judged.keys() & run.keys():
        raise DataError(
            f"the run and the qrels share no query id (run: {len(run)} queries, e.g. "
            f"{sorted(run)[:3]}; qrels: {len(judged)}, e.g. {sorted(judged)[:3]}); wrong qrels file?"
        )


def score_run(
    run: Run, qrels: Qrels, suite: str, per_query: bool = False
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """The suite's metrics under ``trec_eval -c -M 100``: (overall, per-query or {})."""
    measures = _check_suite(suite)
    _check_overlap(run, qrels)
    rows = evaluate(run, qrels, measures, complete=True)
    missing = len(judged_queries(qrels).keys() - run.keys())
    if missing:
        log.warning(
            "%d of %d qrels queries are not in the run; they score 0 (trec_eval -c)", missing, len(rows)
        )
    overall = mean(rows, [m.name for m in measures])
    return overall, (rows if per_query else {})


def mteb_retrieval_scores(
    run: Run, qrels: Qrels, k_values: Sequence[int] = MTEB_K_VALUES, ignore_identical_ids: bool = False
) -> dict[str, Any]:
    """mteb's full retrieval score dict, from mteb's own functions (``RetrievalEvaluator.evaluate``).

    Mirrors what mteb does around them: queries without judgements are dropped from the qrels
    (``_filter_queries_without_positives``) and only qrels queries are searched, so run queries
    outside the qrels are dropped here (mteb's ``mrr`` would raise KeyError on them).
    """
    from mteb._evaluators.retrieval_metrics import calculate_retrieval_scores, make_score_dict

    _check_overlap(run, qrels)
    judged = judged_queries(qrels)
    results = {qid: dict(docs) for qid, docs in run.items() if qid in judged}
    if ignore_identical_ids:  # as RetrievalEvaluator.evaluate (ArguAna, Quora, ...)
        results = {qid: {d: s for d, s in docs.items() if d != qid} for qid, docs in results.items()}
    r = calculate_retrieval_scores(results, judged, list(k_values))
    return make_score_dict(
        ndcg=r.ndcg,
        _map=r.map,
        recall=r.recall,
        precision=r.precision,
        mrr=r.mrr,
        naucs=r.naucs,
        naucs_mrr=r.naucs_mrr,
        hit_rate=r.hit_rate,
        task_scores={},
    )


def trec_retrieval_scores(
    run: Run, qrels: Qrels, suite: str, k_values: Sequence[int] = MTEB_K_VALUES
) -> dict[str, Any]:
    """mteb's score dict with the suite's metrics replaced by their trec_eval -c -M 100 values."""
    scores = mteb_retrieval_scores(run, qrels, k_values)
    overall, _ = score_run(run, qrels, suite)
    scores.update(overall)
    return scores


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
    import mteb

    try:
        meta = mteb.get_task(task_name).metadata
    except KeyError:
        raise ConfigError(
            f"unknown mteb task {task_name!r} (e.g. MIRACLRetrieval, MrTidyRetrieval, SciFact)"
        ) from None
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
    else:
        scores = mteb_retrieval_scores(run, qrels)
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
