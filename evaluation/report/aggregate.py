"""The paper's aggregation rules, applied to one model's task files.

Output: a long frame (task, subset, metric, value, n, n_expected) in points (score x 100). A mean over
a set with gaps keeps the available part and n < n_expected marks it incomplete: nothing is ever filled
with 0. Keys are the ones the paper tables (paper_tables/*.csv) use, so paper cells join on (task, subset, metric).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache

import pandas as pd

from evaluation.data.registry import MRTYDI_LANGS
from evaluation.report.collect import ModelRun
from evaluation.report.settings import MRTYDI_METRIC
from evaluation.suites import mteb_task

MTEB_EN = "MTEB(eng, v1)"
CATEGORIES = ("Classification", "Clustering", "PairClassification", "Reranking", "Retrieval", "STS",
              "Summarization")
MIRACL_EXCLUDED = ("de", "yo")  # surprise languages, not in the paper's 16-language average
MRTYDI_ISO = MRTYDI_LANGS  # mteb hf_subset ("arabic") -> ISO code ("ar"), the paper tables' row labels
COLUMNS = ["task", "subset", "metric", "value", "n", "n_expected"]


@dataclass(frozen=True)
class BenchmarkTask:
    """One task of an mteb benchmark as the benchmark scores it: its category, split and subsets."""

    task: str
    type: str
    split: str
    subsets: tuple[str, ...]

    @property
    def subset_key(self) -> str:
        return ",".join(self.subsets)


@lru_cache(maxsize=1)
def mteb_en_specs() -> tuple[BenchmarkTask, ...]:
    """The 56 tasks of MTEB(eng, v1) with the benchmark's own splits/subsets (MSMARCO dev, STS17 en-en...)."""
    import mteb  # deferred: importing mteb takes seconds

    return tuple(BenchmarkTask(t.metadata.name, t.metadata.type, t.eval_splits[0], tuple(t.hf_subsets))
                 for t in mteb.get_benchmark(MTEB_EN).tasks)


@cache
def task_subsets(task: str) -> tuple[str, ...]:
    return tuple(mteb_task(task).hf_subsets)


@lru_cache(maxsize=1)
def cqadupstack_parts() -> tuple[str, ...]:
    return tuple(t.metadata.name for t in mteb_task("CQADupstackRetrieval").metadata.tasks)


def miracl_langs(n: int = 16) -> tuple[str, ...]:
    langs = task_subsets("MIRACLRetrieval")
    return tuple(x for x in langs if x not in MIRACL_EXCLUDED) if n == 16 else langs


def subset_score(run: ModelRun, task: str, split: str, subset: str, metric: str) -> float | None:
    """One score in points; None when absent or NaN (mteb writes bare NaN for failed metrics)."""
    tf = run.tasks.get(task)
    for entry in (tf.scores.get(split, []) if tf else []):
        if entry.get("hf_subset") == subset:
            v = entry.get(metric)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v):
                return 100.0 * float(v)
            return None
    return None


def _mean_row(task: str, subset: str, metric: str, values: list[float | None]) -> dict:
    got = [v for v in values if v is not None]
    return {"task": task, "subset": subset, "metric": metric, "value": sum(got) / len(got) if got else math.nan,
            "n": len(got), "n_expected": len(values)}


def _mteb_task_value(run: ModelRun, spec: BenchmarkTask) -> float | None:
    vals = [subset_score(run, spec.task, spec.split, s, "main_score") for s in spec.subsets]
    if all(v is not None for v in vals):
        return sum(vals) / len(vals)
    if spec.task == "CQADupstackRetrieval":  # mteb's aggregate = mean of the 12 subforum tasks
        parts = [subset_score(run, p, "test", "default", "main_score") for p in cqadupstack_parts()]
        if all(v is not None for v in parts):
            return sum(parts) / len(parts)
    return None


def mteb_en_rows(run: ModelRun) -> list[dict]:
    rows, by_cat = [], {c: [] for c in CATEGORIES}
    for spec in mteb_en_specs():
        v = _mteb_task_value(run, spec)
        by_cat.setdefault(spec.type, []).append(v)
        if v is not None:
            rows.append({"task": spec.task, "subset": spec.subset_key, "metric": "main_score", "value": v,
                         "n": 1, "n_expected": 1})
    if not any(r["n"] for r in rows):
        return []
    rows += [_mean_row(MTEB_EN, cat, "main_score", vals) for cat, vals in by_cat.items()]
    rows.append(_mean_row(MTEB_EN, "average", "main_score", [v for vals in by_cat.values() for v in vals]))
    return rows


def _per_subset(run: ModelRun, task: str, split: str, metric: str, subsets: tuple[str, ...],
                averages: dict[str, tuple[str, ...]]) -> list[dict]:
    """Per-subset rows plus named averages (e.g. avg16 / avg18); nothing when the task was not run."""
    if task not in run.tasks:
        return []
    vals = {s: subset_score(run, task, split, s, metric) for s in subsets}
    rows = [{"task": task, "subset": s, "metric": metric, "value": v, "n": 1, "n_expected": 1}
            for s, v in vals.items() if v is not None]
    rows += [_mean_row(task, name, metric, [vals[s] for s in subs]) for name, subs in averages.items()]
    return rows


def aggregate(run: ModelRun) -> pd.DataFrame:
    """All paper keys for one model: MTEB-en tasks/categories/average, MIRACL, BUCC, Tatoeba, Mr.TyDi."""
    rows = mteb_en_rows(run)
    m16, m18 = miracl_langs(16), miracl_langs(18)
    for metric in ("ndcg_at_10", "recall_at_100"):
        rows += _per_subset(run, "MIRACLRetrieval", "dev", metric, m18, {"avg16": m16, "avg18": m18})
    for task in ("BUCC", "Tatoeba"):
        subs = task_subsets(task)
        rows += _per_subset(run, task, "test", "f1", subs, {"average": subs})
    mr = tuple(MRTYDI_ISO)
    for metric in (MRTYDI_METRIC, "recall_at_100", "ndcg_at_10"):
        rows += _per_subset(run, "MrTidyRetrieval", "test", metric, mr, {"average": mr})
    df = pd.DataFrame(rows, columns=COLUMNS)
    return df[df["n"] > 0].reset_index(drop=True)
