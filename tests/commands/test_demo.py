"""`me5-eval demo`: checks its data folder before anything runs (the full run: tests/test_runner.py, by hand)."""

from __future__ import annotations

from evaluation.cli import main


def test_demo_without_its_data_folder_is_one_line(capsys, tmp_path):
    assert main(["demo", "--data", str(tmp_path / "nope"), "--results", str(tmp_path / "results")]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "does not exist" in captured.err
    assert not (tmp_path / "results").exists() and captured.out == ""
