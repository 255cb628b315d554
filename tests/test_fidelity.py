"""Details that move numbers a little: which tasks drop a retrieved document with the query's own id (mteb's
``ignore_identical_ids``), and the dtype corpus vectors are stored in (float32 for mteb tasks, float16 for
MIRACL / Mr.TyDi; the measured effect is in docs/scale.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bad_input_cases import beir_files, write_files

from evaluation.cli import main
from evaluation.compose import compose_run_config
from evaluation.retrieval import score_retrieval
from evaluation.shards import shard_dtype
from evaluation.suites import TaskSpec, ignores_identical_ids, resolve_suite, retrieval_specs


def test_identical_ids_follow_mteb_for_every_mteb_en_retrieval_task():
    cfg = compose_run_config(["model=minilm", "suite=mteb-en"])
    names = [s.name for s in retrieval_specs(resolve_suite(cfg.suite, None, None))]
    dropping = {n for n in names if ignores_identical_ids(n)}
    # mteb 2.26 sets ignore_identical_ids on these MTEB(eng, v1) retrieval tasks (mteb/tasks/retrieval/eng/)
    assert dropping == {"ArguAna", "FEVER", "FiQA2018", "MSMARCO", "QuoraRetrieval"}
    assert not ignores_identical_ids("MIRACLRetrieval") and not ignores_identical_ids("SciFact")


@pytest.mark.parametrize("task,ndcg", [
    ("FiQA2018", 1.0),  # the query's own id is dropped: d1 ranks first
    ("SciFact", 1 / math.log2(3)),  # kept: d1 ranks second, DCG = 1 / log2(2 + 1), ideal DCG = 1
])
def test_a_document_with_the_querys_id_is_dropped_where_mteb_drops_it(task, ndcg):
    spec = TaskSpec(task, "test", ("default",), "Retrieval", "ndcg_at_10")
    run = {"q1": {"q1": 0.9, "d1": 0.5, "d2": 0.1}}
    scores, _ = score_retrieval(spec, run, {"q1": {"d1": 1}}, depth=1000)
    assert scores["ndcg_at_10"] == pytest.approx(ndcg, abs=1e-5)  # mteb rounds to 5 decimals


def test_shard_dtype_setting():
    assert shard_dtype("auto", "SciFact") == "float32"
    assert shard_dtype("auto", "MIRACLRetrieval") == shard_dtype("auto", "MrTidyRetrieval") == "float16"
    assert shard_dtype("float16", "SciFact") == "float16" and shard_dtype("float32", "MIRACLRetrieval") == "float32"


@pytest.mark.parametrize("setting,stored", [("auto", np.float32), ("float16", np.float16)])
def test_scifact_corpus_vectors_are_stored_as_the_setting_says(setting, stored, tmp_path):
    write_files(tmp_path, beir_files())
    assert main(["run", "model=minilm", "suite=mteb-en", "tasks=[SciFact]", f"data.paths.SciFact={tmp_path / 'beir'}",
                 f"output.dir={tmp_path / 'out'}", f"cache.dir={tmp_path / 'cache'}", f"shard_dtype={setting}"]) == 0
    [npy] = (tmp_path / "cache" / "shards").rglob("shard-00000.npy")
    arr = np.load(npy)
    assert arr.dtype == stored and arr.shape == (3, 384)
    assert np.linalg.norm(arr.astype(np.float64), axis=1) == pytest.approx(1.0, abs=1e-3)  # L2-normalised
