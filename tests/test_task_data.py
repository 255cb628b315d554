"""evaluation/task_data.py: whether a task runs from local files or mteb's hub copy, and the data either way.

Real data from ../shared/data: SciFact (BEIR folder), STSBenchmark, MIRACL topics + qrels (no corpus), the Mr.TyDi
4-passage corpus samples; ``mini_scifact`` is a 64-document SciFact subsample (tests/conftest.py).
"""

from __future__ import annotations

import pytest

from evaluation.compose import compose_run_config
from evaluation.data._files import FileCorpus
from evaluation.errors import DataError
from evaluation.suites import resolve_suite
from evaluation.task_data import (
    data_source,
    hub_hint,
    local_corpus_file,
    local_root,
    retrieval_subset,
    task_with_data,
    uses_local_data,
)


def config(*overrides):
    return compose_run_config(["model=minilm", *overrides])


def spec_of(cfg, task):
    [spec] = [s for s in resolve_suite(cfg.suite, [task], None)]
    return spec


def test_a_task_folder_under_data_root_is_local(data_root):
    cfg = config(f"data.root={data_root}")
    assert local_root(cfg, "SciFact") == (data_root, None)
    assert data_source(cfg, spec_of(cfg, "SciFact")) == f"local:{data_root}"


def test_without_a_local_copy_the_task_goes_to_the_hub_and_says_why(tmp_path):
    cfg = config(f"data.root={tmp_path}")
    assert local_root(cfg, "SciFact") == (None, None) and not uses_local_data(cfg, "SciFact")
    assert hub_hint(cfg, "SciFact") == f"no local copy at {tmp_path}/beir/scifact"
    assert hub_hint(cfg, "ArxivClusteringP2P") == "no local loader for this task"
    assert hub_hint(config("data.root=null"), "SciFact") == "data.root is not set"
    assert data_source(cfg, spec_of(cfg, "SciFact")).startswith("hub:mteb/scifact@")


def test_data_paths_makes_a_task_local_without_data_root(mini_scifact):
    cfg = config("data.root=null", f"data.paths.SciFact={mini_scifact}")
    assert local_root(cfg, "SciFact") == (mini_scifact, str(mini_scifact))


def test_miracl_topics_and_qrels_alone_make_a_local_copy(data_root):
    assert uses_local_data(config(f"data.root={data_root}"), "MIRACLRetrieval")  # its corpus is not in shared/data


def test_retrieval_data_from_local_files_whole_or_ids_only(mini_scifact):
    cfg = config("data.root=null", f"data.paths.SciFact={mini_scifact}")
    spec = spec_of(cfg, "SciFact")
    data = retrieval_subset(cfg, spec, "default", {})
    assert (len(data.corpus), len(data.queries)) == (64, 16)  # the fixture's documents and judged queries
    lazy = retrieval_subset(cfg, spec, "default", {}, lazy_corpus=True)
    assert isinstance(lazy.corpus, FileCorpus) and lazy.corpus.ids == data.corpus.ids


def test_hub_data_offline_is_one_error_naming_the_local_alternative(tmp_path):
    cfg = config(f"data.root={tmp_path}")  # tests run offline (tests/conftest.py)
    with pytest.raises(DataError, match=r"SciFact: could not load mteb/scifact from the hub.*no local copy at"):
        retrieval_subset(cfg, spec_of(cfg, "SciFact"), "default", {})


def test_a_task_for_mtebs_evaluator_gets_our_local_data(data_root):
    cfg = config(f"data.root={data_root}")
    task = task_with_data(cfg, spec_of(cfg, "STSBenchmark"))
    assert task.data_loaded and len(task.dataset["test"]) == 1379  # STSBenchmark test pairs


def test_the_local_corpus_file_a_sweep_job_reads(data_root, mini_scifact):
    cfg = config("data.root=null", f"data.paths.SciFact={mini_scifact}")
    assert local_corpus_file(cfg, spec_of(cfg, "SciFact"), "default") == (mini_scifact / "corpus.jsonl", "_id")
    sample = data_root / "mrtydi" / "corpus-sample"
    cfg = config("suite=mrtydi", f"data.root={data_root}", f"data.paths.MrTidyRetrieval={sample}")
    assert local_corpus_file(cfg, spec_of(cfg, "MrTidyRetrieval"), "swahili") == (
        sample / "sw" / "corpus.jsonl.gz", "docid")
    hub = config("data.root=null")
    assert local_corpus_file(hub, spec_of(hub, "SciFact"), "default") is None
