"""Reading results (revision choice, old format, tolerant reader) and the paper's aggregation rules."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from report_synth import entry, write_meta, write_task

from evaluation.report.aggregate import aggregate, cqadupstack_parts, mteb_en_specs
from evaluation.report.collect import collect
from evaluation.report.paper import load_paper
from evaluation.report.settings import load_settings


def _one(df: pd.DataFrame, task: str, subset: str, metric: str = "main_score") -> pd.Series:
    hit = df[(df["task"] == task) & (df["subset"] == subset) & (df["metric"] == metric)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_mteb_en_benchmark_shape():
    specs = mteb_en_specs()
    assert len(specs) == 56
    counts = pd.Series([s.type for s in specs]).value_counts().to_dict()
    assert counts == {"Classification": 12, "Clustering": 11, "PairClassification": 3, "Reranking": 4,
                      "Retrieval": 15, "STS": 10, "Summarization": 1}
    by = {s.task: s for s in specs}
    assert (by["MSMARCO"].split, by["STS17"].subsets, by["STS22"].subsets) == ("dev", ("en-en",), ("en",))
    assert by["AmazonCounterfactualClassification"].subsets == ("en",)


def test_revision_choice_is_deterministic_and_recorded(tmp_path):
    m = tmp_path / "org__m"
    for rev, version, score in (("r-old", "1.12.75", 0.5), ("r-new", "2.26.24", 0.6), ("external", None, 0.9)):
        write_meta(m / rev, "org/m")
        write_task(m / rev, "STS12", {"test": [entry("default", score)]}, version=version)
    (run,) = collect([tmp_path], "ours").runs
    assert run.tasks["STS12"].revision == "r-new"  # real run before `external`, then newest mteb
    (choice,) = run.choices
    assert choice["chosen"] == "r-new" and len(choice["candidates"]) == 3 and "external" in choice["rule"]


def test_old_format_and_tolerant_reader(tmp_path):
    rev = tmp_path / "org__m" / "no_revision_available"
    write_meta(rev, "org/m")
    old = {"mteb_version": "0.0.2", "mteb_dataset_name": "BUCC", "dataset_revision": "x",
           "test": {"evaluation_time": 1.0, **{p: {"f1": 0.9, "accuracy": 0.91} for p in
                                               ("de-en", "fr-en", "ru-en", "zh-en")}}}
    (rev / "BUCC.json").write_text(json.dumps(old))
    write_task(rev, "MyCustomTask", {"test": [{"hf_subset": "default", "main_score": 0.5}]})
    coll = collect([tmp_path], "ours")
    (run,) = coll.runs
    assert {e["hf_subset"] for e in run.tasks["BUCC"].scores["test"]} == {"de-en", "fr-en", "ru-en", "zh-en"}
    assert _one(aggregate(run), "BUCC", "average", "f1")["value"] == pytest.approx(90.0)
    assert run.tasks["MyCustomTask"].loader == "tolerant"  # unknown to mteb's registry: still read
    assert [p.what.split(":")[0] for p in coll.problems] == ["mixed mteb versions for org/m"]  # 0.x + 2.x


def test_incomplete_means_and_cqadupstack_from_subforums(tmp_path):
    rev = tmp_path / "org__m" / "r1"
    write_meta(rev, "org/m")
    parts = cqadupstack_parts()
    assert len(parts) == 12
    for i, task in enumerate(parts):
        write_task(rev, task, {"test": [entry("default", 0.30 + i / 100)]})
    write_task(rev, "ArguAna", {"test": [entry("default", 0.50)]})
    write_task(rev, "MIRACLRetrieval", {"dev": [entry("ar", 0.7, ndcg_at_10=0.7, recall_at_100=0.9),
                                                entry("de", 0.5, ndcg_at_10=0.5, recall_at_100=0.8)]})
    (run,) = collect([tmp_path], "ours").runs
    agg = aggregate(run)
    cqa = _one(agg, "CQADupstackRetrieval", "default")
    assert cqa["value"] == pytest.approx(100 * (0.30 + 0.055))  # mean of the 12 subforums
    retr = _one(agg, "MTEB(eng, v1)", "Retrieval")
    assert (retr["n"], retr["n_expected"]) == (2, 15) and retr["value"] == pytest.approx((35.5 + 50) / 2)
    avg = _one(agg, "MTEB(eng, v1)", "average")
    assert (avg["n"], avg["n_expected"]) == (2, 56)
    assert agg[(agg["task"] == "MTEB(eng, v1)") & (agg["subset"] == "STS")].empty  # no STS at all: no 0
    m16, m18 = _one(agg, "MIRACLRetrieval", "avg16", "ndcg_at_10"), _one(agg, "MIRACLRetrieval", "avg18", "ndcg_at_10")
    assert (m16["value"], m16["n"], m16["n_expected"]) == (pytest.approx(70.0), 1, 16)  # de is not in the 16
    assert (m18["value"], m18["n"], m18["n_expected"]) == (pytest.approx(60.0), 2, 18)


def test_paper_csvs():
    p = load_paper(load_settings().paper_dir)
    assert set(p["table_id"]) == {"table3", "table4", "table5", "table6", "table7", "mrtydi_card"}
    assert p["table"].ne("").all() and p["source"].ne("").all()
    t7 = p[(p["table_id"] == "table7") & ~p["derived"] & (p["subset"] != "average")]
    assert t7.groupby("model").size().eq(56).all()
    assert set(t7["task"]) == {s.task for s in mteb_en_specs()}  # mteb task names as row keys
    cqa = t7[t7["paper_row"] == "CQADupstackAndroidRetrieval"]
    assert set(cqa["task"]) == {"CQADupstackRetrieval"} and cqa["note"].str.contains("mapped").all()
    derived = p[p["derived"]].set_index(["model", "subset"])["value"]
    assert derived[("intfloat/multilingual-e5-small", "Classification")] == 70.74
    assert derived[("intfloat/multilingual-e5-large-instruct", "Retrieval")] == 52.47
    assert p[p["derived"]]["source"].str.startswith("derived").all()
    card = p[(p["table_id"] == "mrtydi_card") & (p["metric"] == "mrr_at_10")].set_index(["paper_model", "paper_row"])
    assert card.loc[("multilingual-e5-small", "ko"), "value"] == 54.3
    assert pd.isna(card.loc[("multilingual-e5-base", "ar"), "value"])  # not recovered: empty, not 0
    t3 = p[p["table_id"] == "table3"].set_index("paper_model")["model"]
    assert t3["mE5-large-instruct"] == "intfloat/multilingual-e5-large-instruct"
    assert p[p["table_id"] == "table4"]["subset"].eq("avg16").all()


def test_leaderboard_sort_puts_partial_means_after_complete_ones():
    from evaluation.report.tables import sort_by

    values = pd.DataFrame({"model": list("abcd"), "source": "ours", "x": [60.0, 90.0, float("nan"), 70.0]})
    coverage = pd.DataFrame({"model": list("abcd"), "source": "ours", "x": ["", "2/56", "", ""]})
    assert list(sort_by(values, "x", coverage)["model"]) == ["d", "a", "b", "c"]  # 90 is a partial mean
