"""Acceptance: on the real MIRACL (18 languages) and Mr.TyDi (11) qrels, every suite metric equals
an independent reference computed from pytrec_eval directly, to 1e-9.

Runs (seeded): candidates = the query's judged docids + 0..110 fake docids, scored four ways:
random (rounded to 2 decimals, plus 2**-30 on some documents: ties in float64 AND in float32),
perfect (relevant first, by grade), reversed (relevant last), partial (20% of queries absent,
10% with only fake documents).

Reference, built without evaluation.metrics:
* -c: the run is padded with an empty ranking for every qrels query, so pytrec_eval returns them all;
* -M 100 is not applied: nDCG@10 and R@100 cannot depend on documents below rank 100;
* MRR@k = pytrec_eval's uncut recip_rank if the first hit is within rank k (1/rr <= k), else 0.
Plus a by-hand computation (float32 sort, docid tie-break, the formulas) for a few queries.
"""

from __future__ import annotations

import random
import zlib
from math import log2
from pathlib import Path

import numpy as np
import pytest
import pytrec_eval

from evaluation import trec_io
from evaluation.scoring import score_run

MIRACL = "ar bn de en es fa fi fr hi id ja ko ru sw te th yo zh".split()
MRTYDI = "ar bn en fi id ja ko ru sw te th".split()
RUN_KINDS = ("random", "perfect", "reversed", "partial")
NAMES = ("mrr_at_100", "mrr_at_10", "recall_at_100", "ndcg_at_10")


def qrels_path(root: Path, collection: str, lang: str) -> Path:
    if collection == "miracl":
        return root / "miracl" / "qrels" / f"qrels.miracl-v1.0-{lang}-dev.tsv"
    return root / "mrtydi" / "qrels" / f"qrels.mrtydi-v1.1-{lang}.test.txt"


def make_run(qrels: dict[str, dict[str, int]], kind: str, seed: int) -> dict[str, dict[str, float]]:
    rng = random.Random(seed)
    run: dict[str, dict[str, float]] = {}
    for qid, judged in qrels.items():
        if kind == "partial" and rng.random() < 0.2:
            continue  # query absent from the run: scores 0 under -c
        fakes = [f"fake{rng.randrange(10**6)}#{i}" for i in range(rng.randint(0, 110))]
        docs = fakes if kind == "partial" and rng.random() < 0.1 else [*judged, *fakes]
        run[qid] = {d: score(kind, judged.get(d, 0), rng) for d in docs}
    return run


def score(kind: str, grade: int, rng: random.Random) -> float:
    noise = round(rng.random(), 2) + rng.choice((0.0, 2**-30))  # many exact and float32-only ties
    if kind == "perfect":
        return grade * 10 + noise
    if kind == "reversed":
        return -grade * 10 + noise
    return noise


def reference(run, qrels) -> dict[str, dict[str, float]]:
    padded = {qid: run.get(qid, {}) for qid in qrels}
    raw = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100", "recip_rank"}).evaluate(padded)
    assert raw.keys() == qrels.keys()
    return {
        qid: {
            "mrr_at_100": cut_rr(row["recip_rank"], 100),
            "mrr_at_10": cut_rr(row["recip_rank"], 10),
            "recall_at_100": row["recall_100"],
            "ndcg_at_10": row["ndcg_cut_10"],
        }
        for qid, row in raw.items()
    }


def cut_rr(rr: float, k: int) -> float:
    return rr if rr > 0 and round(1 / rr) <= k else 0.0


def by_hand(docs: dict[str, float], judged: dict[str, int]) -> dict[str, float]:
    ranking = sorted(docs, key=lambda d: (np.float32(docs[d]), d), reverse=True)
    grades = [judged.get(d, 0) for d in ranking]
    first = next((i + 1 for i, g in enumerate(grades) if g > 0), None)
    ideal = sorted(judged.values(), reverse=True)
    idcg = sum(g / log2(i + 2) for i, g in enumerate(ideal[:10]))
    dcg = sum(g / log2(i + 2) for i, g in enumerate(grades[:10]))
    n_rel = sum(g > 0 for g in judged.values())
    return {
        "mrr_at_100": 1 / first if first and first <= 100 else 0.0,
        "mrr_at_10": 1 / first if first and first <= 10 else 0.0,
        "recall_at_100": sum(g > 0 for g in grades[:100]) / n_rel,
        "ndcg_at_10": dcg / idcg,
    }


@pytest.mark.parametrize(
    "collection,lang", [("miracl", lang) for lang in MIRACL] + [("mrtydi", lang) for lang in MRTYDI]
)
def test_suite_metrics_equal_pytrec_eval_reference(data_root, collection, lang):
    qrels = trec_io.read_qrels(qrels_path(data_root, collection, lang))
    for kind in RUN_KINDS:
        run = make_run(qrels, kind, seed=zlib.crc32(f"{collection}/{lang}/{kind}".encode()))
        overall, per_query = score_run(run, qrels, "mrtydi", per_query=True)
        ref = reference(run, qrels)
        assert per_query.keys() == ref.keys()
        for qid, row in ref.items():
            assert per_query[qid] == pytest.approx(row, abs=1e-9), (kind, qid)
        for name in NAMES:
            assert overall[name] == pytest.approx(np.mean([r[name] for r in ref.values()]), abs=1e-9)
        miracl_overall, _ = score_run(run, qrels, "miracl")
        assert miracl_overall == {k: overall[k] for k in ("ndcg_at_10", "recall_at_100")}
        for qid in list(run)[:3]:
            assert per_query[qid] == pytest.approx(by_hand(run[qid], qrels[qid]), abs=1e-9), (kind, qid)
        if kind == "perfect":
            assert overall["recall_at_100"] == 1.0 and overall["mrr_at_10"] == 1.0
