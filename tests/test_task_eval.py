"""evaluation/task_eval.py: one task spec in, {hf_subset: scores} out, with the run file and per-item rows on disk.

The encoder here is a bag-of-words hashing stub (no model: fast, deterministic), so the checks are about what
task_eval does with vectors: the scores it reports must equal an independent computation from the files it wrote
(pytrec_eval on the run file for retrieval, scipy's Spearman on the same vectors for STS).
"""

from __future__ import annotations

import json
import re
import zlib

import numpy as np
import pytest
import pytrec_eval
from scipy.stats import spearmanr

from evaluation.compose import compose_run_config
from evaluation.encode import TextEmbedder
from evaluation.models.encoder import model_meta
from evaluation.suites import resolve_suite
from evaluation.task_data import load_subset
from evaluation.task_eval import TaskContext, evaluate_spec
from evaluation.trec_io import read_qrels, read_run

DIM = 64


class HashingEncoder:
    """Each word adds 1 to one of DIM buckets (crc32), plus a little noise seeded by the text so that no two texts
    tie exactly (a tie would be broken by float rounding, differently in each computation); L2-normalised."""

    def __init__(self, cfg):
        self.mteb_model_meta = model_meta(cfg.model, DIM)

    def model_fingerprint(self) -> str:
        return "hashing-stub"

    def encode_formatted(self, texts, *, normalize, batch_size, **kwargs) -> np.ndarray:
        out = np.zeros((len(texts), DIM), np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, zlib.crc32(word.encode()) % DIM] += 1
            out[i] += 1e-3 * np.random.default_rng(zlib.crc32(text.encode())).standard_normal(DIM)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def context(tmp_path, *overrides) -> tuple[TaskContext, object]:
    cfg = compose_run_config(["model=minilm", "suite=mteb-en", f"output.dir={tmp_path / 'out'}",
                              f"cache.dir={tmp_path / 'cache'}", *overrides])
    [spec] = resolve_suite(cfg.suite, cfg.tasks, cfg.langs)
    return TaskContext(cfg, TextEmbedder(cfg, HashingEncoder(cfg), cache=None)), spec


def test_retrieval_scores_equal_pytrec_eval_on_the_run_file_it_wrote(mini_scifact, tmp_path):
    ctx, spec = context(tmp_path, "tasks=[SciFact]", "data.root=null", f"data.paths.SciFact={mini_scifact}",
                        "shards=2", "block_rows=16")
    scores = evaluate_spec(ctx, spec)["default"]
    details = ctx.details(spec)
    run = read_run(details / "default.run.trec")
    assert len(run) == 16 and {len(docs) for docs in run.values()} == {64}  # 16 queries x all 64 documents
    qrels = read_qrels(mini_scifact / "qrels" / "test.tsv")
    per_query = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"}).evaluate(run)
    ndcg = np.mean([row["ndcg_cut_10"] for row in per_query.values()])
    assert scores["ndcg_at_10"] == pytest.approx(ndcg, abs=1e-5)  # mteb rounds to 5 decimals
    assert scores["main_score"] == scores["ndcg_at_10"]
    rows = [json.loads(line) for line in (details / "default.per_item.jsonl").read_text().splitlines()]
    assert {r["id"]: r["ndcg_at_10"] for r in rows} == pytest.approx(
        {q: v["ndcg_cut_10"] for q, v in per_query.items()}, abs=1e-9)


def test_sts_goes_through_mtebs_evaluator_fed_our_local_data(data_root, tmp_path):
    ctx, spec = context(tmp_path, "tasks=[STSBenchmark]", f"data.root={data_root}")
    scores = evaluate_spec(ctx, spec)["default"]
    pairs = load_subset(ctx.cfg, spec, "default")  # the pairs mteb was given, scored here without mteb
    enc = ctx.embedder.encoder
    a = enc.encode_formatted(pairs.sentence1, normalize=True, batch_size=64)
    b = enc.encode_formatted(pairs.sentence2, normalize=True, batch_size=64)
    ours = spearmanr(np.sum(a.astype(np.float64) * b, axis=1), pairs.scores).statistic
    assert len(pairs.scores) == 1379 and scores["cosine_spearman"] == pytest.approx(ours, abs=1e-6)
    assert scores["main_score"] == scores["cosine_spearman"]
    per_item = (ctx.details(spec) / "default.per_item.jsonl").read_text().splitlines()
    assert len(per_item) == 1379  # one row per pair, for paired significance tests
