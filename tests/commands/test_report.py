"""`me5-eval report`: what a user sees after `make demo` (published results matched), CHECK mode, and one-line
errors for a results folder that is missing, a file, or holds nothing readable."""

from __future__ import annotations

import pytest

from evaluation.cli import main

from .conftest import copy_run


def report(results, out, *extra) -> list[str]:
    return ["report", "--results", str(results), "--out", str(out), "--name", "r", "--no-plots", *extra]


def test_the_demo_run_matches_the_published_scores(published_minilm, tmp_path, capsys):
    copy_run(published_minilm, tmp_path / "results")
    assert main(report(tmp_path / "results", tmp_path / "out", "--reference", str(published_minilm.parent))) == 0
    out = capsys.readouterr().out
    assert ("summary: vs the paper: no paper model run | vs published mteb results: 3 of 3 cells run: 3 OK, 0 FAIL"
            in out)
    md = (tmp_path / "out" / "r" / "report.md").read_text()
    sts = next(line for line in md.splitlines() if line.startswith("| STSBenchmark ") and "main score" in line)
    assert [c.strip() for c in sts.split("|")[4:9]] == ["", "82.03", "82.03", "+0.00", ""]  # paper, lb, ours, delta


def test_check_fails_on_a_published_score_that_moved(published_minilm, tmp_path, capsys):
    copy_run(published_minilm, tmp_path / "results", shift={"STSBenchmark": -0.01})  # 1 point lower
    rc = main(report(tmp_path / "results", tmp_path / "out", "--reference", str(published_minilm.parent), "--check"))
    out = capsys.readouterr().out
    assert rc == 1 and "2 OK, 1 FAIL" in out
    assert "FAIL published STSBenchmark sentence-transformers/all-MiniLM-L6-v2: ours 81.03 vs 82.03" in out


def test_a_file_that_is_not_a_result_is_listed_not_fatal(published_minilm, tmp_path, capsys):
    rev = copy_run(published_minilm, tmp_path / "results", tasks=("STSBenchmark",))
    (rev / "SciFact.json").write_text("[]")
    (rev / "Banking77Classification.json").write_text('{"task_name": "Banking77Classification"}')
    assert main(report(tmp_path / "results", tmp_path / "out", "--reference", "none")) == 0
    assert "problems: 2" in capsys.readouterr().out
    problems = (tmp_path / "out" / "r" / "tables" / "problems.csv").read_text()
    assert "SciFact.json" in problems and "not an mteb result" in problems


def _file(p):
    (p / "f.json").write_text("{}")
    return p / "f.json"


def _empty(p):
    (p / "empty").mkdir()
    return p / "empty"


def _only_garbage(p):
    (p / "x" / "org__m" / "r").mkdir(parents=True)
    (p / "x" / "org__m" / "r" / "STS12.json").write_text("[]")
    return p / "x"


@pytest.mark.parametrize("make,message", [
    (lambda p: p / "typo", "does not exist"),
    (_file, "is a file, not a folder"),
    (_empty, "no readable result"),
    (_only_garbage, "not an mteb result"),
])
@pytest.mark.parametrize("check", [[], ["--check"]])
def test_nothing_to_report_is_one_line_and_exit_2(tmp_path, capsys, make, message, check):
    assert main(report(make(tmp_path), tmp_path / "out", "--reference", "none", *check)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("me5-eval report: error:") and message in err and "\n" not in err
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_bad_config_is_exit_2(published_minilm, tmp_path, capsys):
    copy_run(published_minilm, tmp_path / "results")
    assert main(report(tmp_path / "results", tmp_path / "out", "--config", str(tmp_path / "nope.yaml"))) == 2
    assert "report config" in capsys.readouterr().err
