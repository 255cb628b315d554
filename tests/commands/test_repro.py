"""`me5-eval repro`: bad input is one line and exit 2, before any model is converted or loaded."""

from __future__ import annotations

from evaluation.cli import main


def test_check_without_committed_results_is_one_line_and_exit_2(tmp_path, capsys, data_root):
    argv = ["repro", "--data", str(data_root), "--check", "--results", str(tmp_path / "none"),
            "--cache", str(tmp_path / "cache")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("me5-eval repro: error: no committed results under") and "make repro-offline" in err
    assert "\n" not in err and not (tmp_path / "cache").exists()


def test_a_task_outside_the_reproduction_is_exit_2_naming_the_choices(tmp_path, capsys, data_root):
    argv = ["repro", "--data", str(data_root), "--tasks", "MSMARCO", "--plan", "--cache", str(tmp_path / "cache")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "['MSMARCO'] are not in the reproduction; choose from STSBenchmark, Tatoeba," in err
