"""LazyEncoder: everything a cached run needs (fingerprint, dim, device, dtype, mteb meta) without loading weights;
the first forward pass loads the model once and gives the eager encoder's embeddings."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

import evaluation.models.loading as loading
from evaluation.errors import ConfigError
from evaluation.models.lazy import LazyEncoder


@pytest.fixture
def no_loading(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("weights must not be loaded here")

    monkeypatch.setattr(loading, "load_encoder", refuse)


def test_fingerprint_dim_device_and_meta_are_known_without_weights(minilm_cfg, minilm_encoder, no_loading):
    lazy = LazyEncoder(minilm_cfg, device="cpu")
    # the local folder's content hash and the numerics (all-MiniLM-L6-v2 encodes 256 tokens: its
    # sentence_bert_config.json), known without weights (the loaded encoder reports the same
    # string: test_first_forward_loads_once_and_matches_the_eager_encoder)
    assert re.fullmatch(r"sha256:[0-9a-f]{16,64}\|pool=mean\|max_length=256\|dtype=float32", lazy.model_fingerprint())
    assert (lazy.dim, str(lazy.device), str(lazy.dtype)) == (384, "cpu", "torch.float32")
    assert lazy.mteb_model_meta.embed_dim == 384 and not lazy.loaded


def test_wrong_dim_is_reported_before_loading(minilm_cfg, no_loading):
    with pytest.raises(ConfigError, match="produces 384-dim embeddings but model.dim=768; set model.dim=384"):
        LazyEncoder(dataclasses.replace(minilm_cfg, dim=768), device="cpu")


def test_first_forward_loads_once_and_matches_the_eager_encoder(minilm_cfg, minilm_encoder, monkeypatch):
    loads = []
    real = loading.load_encoder

    def counting(*args, **kwargs):
        loads.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(loading, "load_encoder", counting)
    lazy = LazyEncoder(minilm_cfg, device="cpu")
    texts = ["a cat sat on the mat", "the e5 paper", "a cat sat on the mat"]
    first = lazy.encode_formatted(texts, normalize=True, show_progress=False)
    lazy.encode_formatted(texts[:1], normalize=True, show_progress=False)
    eager = minilm_encoder.encode_formatted(texts, normalize=True, show_progress=False)
    assert len(loads) == 1 and lazy.loaded and lazy.forward_calls == 2
    np.testing.assert_allclose(first, eager, atol=1e-6)
    assert lazy.model_fingerprint() == lazy.load().model_fingerprint()


def test_a_loader_whose_fingerprint_differs_from_the_prediction_is_refused(minilm_cfg, minilm_encoder):
    """The cache keys were computed from the prediction: a different real model must not be mixed in."""
    class Other:
        def model_fingerprint(self):
            return "sha256:other"

    lazy = LazyEncoder(minilm_cfg, device="cpu", loader=lambda *a, **k: Other())
    with pytest.raises(RuntimeError, match="!= predicted"):
        lazy.encode_formatted(["x"], normalize=True)


def test_unknown_protocol_fails_at_construction(minilm_cfg):
    with pytest.raises(ConfigError, match="protocol='beir' is not one of"):
        LazyEncoder(minilm_cfg, device="cpu", protocol="beir")


def test_a_pinned_hub_model_needs_no_download_for_a_cached_run(no_loading):
    """evaluation/conf/model/small: the hub is unreachable here, yet everything a cached run needs is known."""
    from evaluation.compose import compose_run_config

    cfg = compose_run_config(["model=small"]).model
    lazy = LazyEncoder(cfg, device="cpu")
    weights = f"intfloat/multilingual-e5-small@{cfg.revision}"
    assert lazy.model_fingerprint() == f"{weights}|pool=mean|max_length=512|dtype=float32"
    assert lazy.dim == 384 and lazy.mteb_model_meta.embed_dim == 384 and not lazy.loaded
