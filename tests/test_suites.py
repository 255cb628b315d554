"""evaluation/suites.py: a suite config becomes task specs from mteb's registry, narrowed by tasks= and langs=;
an aggregate task expands to its subtasks."""

from __future__ import annotations

import pytest

from evaluation.compose import compose_run_config
from evaluation.errors import ConfigError
from evaluation.suites import TREC_SUITES, fresh_task, mteb_task, resolve_suite, retrieval_specs, subtask_specs


def specs(*overrides):
    cfg = compose_run_config(list(overrides))
    return resolve_suite(cfg.suite, cfg.tasks, cfg.langs)


def test_a_task_spec_carries_mtebs_metadata():
    [scifact] = specs("suite=mteb-en", "tasks=[SciFact]")
    assert (scifact.name, scifact.split, scifact.subsets) == ("SciFact", "test", ("default",))
    assert (scifact.task_type, scifact.main_score, scifact.is_retrieval) == ("Retrieval", "ndcg_at_10", True)


def test_langs_narrow_every_task_to_those_subsets():
    [miracl] = specs("suite=miracl", "langs=[sw,yo]")
    assert (miracl.split, miracl.subsets) == ("dev", ("sw", "yo"))
    assert len(specs("suite=miracl")[0].subsets) == 18  # MIRACL dev: 18 languages


def test_an_unknown_task_name_fails_before_anything_loads():
    with pytest.raises(ConfigError, match="unknown task 'NoSuchTask'"):
        mteb_task("NoSuchTask")


def test_cqadupstack_expands_to_its_12_subforums():
    [aggregate] = specs("suite=mteb-en", "tasks=[CQADupstackRetrieval]")
    subs = subtask_specs(aggregate)
    assert len(subs) == 12 and all(s.name.startswith("CQADupstack") and s.is_retrieval for s in subs)
    assert "CQADupstackGisRetrieval" in {s.name for s in subs}
    assert subtask_specs(specs("suite=mteb-en", "tasks=[SciFact]")[0]) is None  # a plain task


def test_retrieval_specs_are_the_corpora_a_run_encodes():
    run = specs("suite=mteb-en", "tasks=[STSBenchmark,SciFact,CQADupstackRetrieval]")
    names = {s.name for s in retrieval_specs(run)}
    assert len(names) == 13 and "SciFact" in names and "CQADupstackGisRetrieval" in names
    assert not names & {"STSBenchmark", "CQADupstackRetrieval"}  # no STS corpus; the aggregate has none of its own


def test_a_fresh_task_is_a_new_object_the_cached_one_stays_untouched():
    one, two = fresh_task("SciFact"), fresh_task("SciFact")
    assert one is not two and one is not mteb_task("SciFact")
    one.hf_subsets = []  # attaching data mutates a task...
    assert list(mteb_task("SciFact").hf_subsets) == ["default"]  # ...never the shared one


def test_trec_suites_are_miracl_and_mrtydi():
    assert TREC_SUITES == {"MIRACLRetrieval": "miracl", "MrTidyRetrieval": "mrtydi"}
