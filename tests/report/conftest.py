"""Fixtures for the report tests (the synthetic folder itself: report_synth.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from report_synth import add_bad_input, build_synthetic

from evaluation.report.settings import load_settings


@pytest.fixture(scope="session")
def synthetic_results(tmp_path_factory) -> Path:
    return build_synthetic(tmp_path_factory.mktemp("synthetic") / "results")


@pytest.fixture()
def bad_results(tmp_path, synthetic_results) -> tuple[Path, dict[str, Path]]:
    root = tmp_path / "results"
    shutil.copytree(synthetic_results, root)
    return root, add_bad_input(root)


@pytest.fixture()
def settings():
    return load_settings()


@pytest.fixture(scope="session")
def report_settings():
    """Shared by module-scoped fixtures: never mutate it (use `settings` for a private copy)."""
    return load_settings()
