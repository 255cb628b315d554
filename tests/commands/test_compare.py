"""`me5-eval compare`: our run against the published folder of the same model (per-task deltas printed), names
looked up in every --results folder, one-line errors, and a checkpoint series with its curves."""

from __future__ import annotations

from evaluation.cli import main

from .conftest import MINILM, copy_run


def test_our_run_vs_the_published_folder_prints_per_task_deltas(published_minilm, tmp_path, capsys):
    ours = copy_run(published_minilm, tmp_path / "results", shift={"Banking77Classification": 0.01}).parent
    assert main(["compare", str(ours), str(published_minilm), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in out.splitlines()
            if line.startswith("| ") and not line.startswith("| task")}
    # two folders holding the same model name: labelled by the end of their paths, A = ours, B = published
    assert f"A: results/{MINILM}" in out.splitlines()[0] and f"B: mteb-results/{MINILM}" in out.splitlines()[0]
    assert rows["STSBenchmark"][:3] == ["82.03", "82.03", "+0.00"]
    assert rows["Banking77Classification"][:3] == ["81.04", "80.04", "-1.00"]
    assert set(rows) == {"STSBenchmark", "SciFact", "Banking77Classification"}  # tasks both have
    written = tmp_path / "out" / f"compare__results__{MINILM}__vs__mteb-results__{MINILM}"
    assert "tasks only in" in (written / "compare.md").read_text()  # the other 60+ published tasks, said once


def test_every_results_folder_is_searched(published_minilm, tmp_path, capsys):
    copy_run(published_minilm, tmp_path / "first", tasks=("STSBenchmark",))
    rc = main(["compare", str(tmp_path / "first" / MINILM), "sentence-transformers/LaBSE", "--results",
               str(tmp_path / "first"), "--results", str(published_minilm.parent), "--out", str(tmp_path / "o")])
    assert rc == 0 and "sentence-transformers/LaBSE" in capsys.readouterr().out  # found in the second folder


def test_errors_are_one_line_and_exit_2(published_minilm, tmp_path, capsys):
    copy_run(published_minilm, tmp_path / "results")
    (tmp_path / "empty").mkdir()
    for args, message in (
            (["nope/model", MINILM, "--results", str(tmp_path / "results")], "neither a folder nor a model"),
            ([MINILM, "x/y", "--results", str(tmp_path / "typo")], "does not exist"),
            ([str(tmp_path / "empty"), str(published_minilm)], "holds no readable result")):
        assert main(["compare", *args, "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("me5-eval compare: error:") and message in err and "\n" not in err, err


def test_a_checkpoint_series(published_minilm, tmp_path, capsys):
    steps = {"step-1000": -0.02, "step-2000": 0.0, "step-3000": -0.01}
    args = [str(copy_run(published_minilm, tmp_path / s, shift={"STSBenchmark": d}).parents[1]) for s, d in
            steps.items()]
    assert main(["compare", *args, "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    sts = next(line for line in out.splitlines() if line.startswith("| STSBenchmark "))
    assert [c.strip() for c in sts.split("|")[3:6]] == ["80.03", "82.03", "81.03"]
    assert "step-2000" in sts.split("|")[6]  # best on STSBenchmark
    written = tmp_path / "out" / "series__step-1000__to__step-3000"
    assert (written / "plots" / "series.png").stat().st_size > 5000 and (written / "series.csv").is_file()
