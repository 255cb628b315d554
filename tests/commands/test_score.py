"""`me5-eval score`: trec_eval's text output, exit codes on bad input, and --save-json as an mteb TaskResult."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evaluation import trec_io
from evaluation.commands.score import format_trec_eval, score_command
from evaluation.scoring import score_run

QRELS = {"q1": {"d1": 2, "d2": 1, "d3": 0}, "q2": {"d9": 1}, "q3": {"d5": 1}}
RUN = {"q1": {"d2": 0.9, "d1": 0.5, "dx": 0.4}, "q2": {"dy": 1.0, "d9": 0.5}}  # q3 absent


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path):
    trec_io.write_run(tmp_path / "bm25.run", RUN, tag="bm25")
    qrels = [f"{q} Q0 {d} {g}" for q, docs in QRELS.items() for d, g in docs.items()]
    return tmp_path / "bm25.run", write(tmp_path / "qrels.txt", qrels)


def test_format_trec_eval():
    overall = {"ndcg_at_10": 0.123456, "recall_at_100": 1.0}
    per_query = {
        "q2": {"ndcg_at_10": 0.5, "recall_at_100": 1.0},
        "q10": {"ndcg_at_10": 0.0, "recall_at_100": 1.0},
    }
    assert format_trec_eval(overall, per_query, False) == (
        "ndcg_at_10            \tall\t0.1235\nrecall_at_100         \tall\t1.0000\n"
    )
    lines = format_trec_eval(overall, per_query, True).splitlines()
    assert [line.split("\t")[1] for line in lines] == ["q10", "q10", "q2", "q2", "all", "all"]
    assert lines[2] == "ndcg_at_10            \tq2\t0.5000"


def test_score_command_prints_trec_eval_lines(files, capsys):
    run, qrels = files
    assert score_command([str(run), str(qrels), "--suite", "mrtydi"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "mrr_at_10             \tall\t0.5000"
    assert score_command([str(run), str(qrels), "--per-query"]) == 0
    assert "ndcg_at_10            \tq3\t0.0000" in capsys.readouterr().out


@pytest.mark.parametrize(
    "case,message",
    [
        ("missing", "missing data file for run file"),
        ("malformed", "bad.run:2: expected 6 fields"),
        ("disjoint", "share no query id"),
        ("no-model", "--save-json needs --model and --task"),
        ("bad-task", "unknown task 'NoSuchTask'"),
        ("bad-subset", "has no subset 'xx'"),
    ],
)
def test_score_command_user_errors_exit_2(files, tmp_path, capsys, case, message):
    run, qrels = files
    argv = {
        "missing": [str(tmp_path / "nope.run"), str(qrels)],
        "malformed": [str(write(tmp_path / "bad.run", ["q1 Q0 d1 1 1.0 t", "q1 Q0 d2 2 0.5"])), str(qrels)],
        "disjoint": [str(write(tmp_path / "x.run", ["zz Q0 d1 1 1.0 t"])), str(qrels)],
        "no-model": [str(run), str(qrels), "--save-json", str(tmp_path / "r.json")],
        "bad-task": [
            str(run),
            str(qrels),
            "--save-json",
            str(tmp_path / "r.json"),
            "--model",
            "m",
            "--task",
            "NoSuchTask",
        ],
        "bad-subset": [str(run), str(qrels), "--save-json", str(tmp_path / "r.json"), "--model", "m"]
        + ["--task", "MIRACLRetrieval", "--subset", "xx"],
    }[case]
    assert score_command(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_save_json_is_an_mteb_task_result_and_merges_subsets(files, tmp_path, capsys):
    from mteb import TaskResult

    run, qrels = files
    out = tmp_path / "results" / "bm25" / "MIRACLRetrieval.json"
    common = ["--save-json", str(out), "--model", "bm25", "--task", "MIRACLRetrieval"]
    assert score_command([str(run), str(qrels), *common, "--subset", "sw"]) == 0
    assert score_command([str(run), str(qrels), *common, "--subset", "ar"]) == 0
    result = TaskResult.from_disk(out)
    assert result.task_name == "MIRACLRetrieval"
    entries = result.scores["dev"]
    assert [e["hf_subset"] for e in entries] == ["ar", "sw"]
    assert entries[1]["languages"] == ["swa-Latn"]
    overall, _ = score_run(RUN, QRELS, "miracl")
    assert entries[1]["main_score"] == entries[1]["ndcg_at_10"] == pytest.approx(overall["ndcg_at_10"])
    assert "map_at_10" in entries[1]
    # the run ranks at most 3 documents per query: deeper metrics are not stored (recall_at_100 would be recall_at_3)
    assert "recall_at_100" in overall and "recall_at_100" not in entries[1] and "recall_at_3" not in overall
    assert re.search(r"\d+ metrics need more than the run's 3 documents per query and are not stored",
                     capsys.readouterr().err)
    doc = json.loads(out.read_text())
    assert doc["me5_eval"]["dev/sw"]["model"] == "bm25"
    assert doc["me5_eval"]["dev/sw"]["semantics"] == "trec_eval -c -M 100"
    assert list(out.parent.iterdir()) == [out]  # no temp file left behind
    # a file of another task is not overwritten
    assert score_command([str(run), str(qrels), *common[:4], "--task", "SciFact"]) == 2
    assert "is not an mteb TaskResult of SciFact" in capsys.readouterr().err


def test_save_json_drops_a_document_with_the_querys_id_where_mteb_does(tmp_path):
    """ArguAna (mteb: ignore_identical_ids): the query's own argument ranked first is not a hit nor a miss."""
    run = tmp_path / "r.run"
    trec_io.write_run(run, {"q1": {"q1": 2.0, "d1": 1.0}}, tag="t")
    qrels = write(tmp_path / "qrels.txt", ["q1 Q0 d1 1"])
    out = tmp_path / "ArguAna.json"
    assert score_command([str(run), str(qrels), "--suite", "beir", "--save-json", str(out), "--model", "m",
                          "--task", "ArguAna"]) == 0
    [entry] = json.loads(out.read_text())["scores"]["test"]
    assert entry["ndcg_at_1"] == pytest.approx(1.0)  # d1 is first once q1 is dropped
