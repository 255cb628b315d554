"""`me5-eval` itself: the usage, unknown commands, and -v / -q for the log level."""

from __future__ import annotations

import logging
import os

import pytest

from evaluation.cli import configure_logging, main


@pytest.fixture
def restore_logging(monkeypatch):
    """configure_logging sets levels and environment variables: undo both after the test."""
    for var in ("TRANSFORMERS_VERBOSITY", "HF_HUB_DISABLE_PROGRESS_BARS", "TQDM_DISABLE"):
        monkeypatch.delenv(var, raising=False)
    names = ("", "evaluation", "hydra._internal.core_plugins.basic_launcher")
    levels = {n: logging.getLogger(n).level for n in names}
    yield
    for n, level in levels.items():
        logging.getLogger(n).setLevel(level)


def test_usage_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("run", "plan", "score", "report", "compare", "demo", "tasks", "models", "suites", "-v", "-q"):
        assert f"  {command} " in out


def test_unknown_command(capsys):
    assert main(["evaluate"]) == 2
    assert "unknown command 'evaluate'; choose one of: run, plan" in capsys.readouterr().err


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("verbosity, ours, third_party, bars", [(-1, False, False, False), (0, True, False, True),
                                                                (1, True, True, True)])
def test_log_levels(verbosity, ours, third_party, bars):
    """Default: our INFO lines (progress across tasks) but not faiss's AVX probe or mteb's INFO lines."""
    configure_logging(verbosity)
    assert logging.getLogger("evaluation.runner").isEnabledFor(logging.INFO) is ours
    assert logging.getLogger("faiss.loader").isEnabledFor(logging.INFO) is third_party
    assert logging.getLogger("mteb.abstasks").isEnabledFor(logging.INFO) is third_party
    assert (os.environ.get("TQDM_DISABLE") != "1") is bars
    assert (os.environ.get("TRANSFORMERS_VERBOSITY") == "error") is (verbosity < 1)


def test_flags_may_follow_the_command(capsys, restore_logging):
    assert main(["suites", "-q"]) == 0 and "mteb-en" in capsys.readouterr().out
    assert not logging.getLogger("evaluation").isEnabledFor(logging.INFO)
