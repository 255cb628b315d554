"""Shared fixtures: where the real data lives, and offline mode for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Tests never touch the network: the hub is unreachable here and CI must not depend on it.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def shared_data_root() -> Path:
    return Path(os.environ.get("ME5_EVAL_DATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real public data (../shared/data, or $ME5_EVAL_DATA). A missing root fails, never skips."""
    root = shared_data_root()
    if not (root / "README.md").is_file():
        pytest.fail(f"real data not found at {root}; set ME5_EVAL_DATA to the shared/data folder")
    return root
