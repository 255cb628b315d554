"""evaluation/encode.py: prompts applied once, embeddings cached on the final input text, one mteb adapter.

A counting stub encoder shows what reaches the model; the mteb adapter runs all-MiniLM-L6-v2 for real and is
compared with sentence-transformers, the model's own pipeline.
"""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.compose import compose_run_config
from evaluation.encode import MtebEncoder, TextEmbedder, lazy_embedder, role_for_prompt_type, shard_embedder
from evaluation.models.loading import load_encoder_once


class RecordingEncoder:
    """Returns one fixed vector per distinct text and records every text the 'model' was asked to encode."""

    def __init__(self):
        self.seen: list[str] = []

    def model_fingerprint(self) -> str:
        return "recording-stub"

    def encode_formatted(self, texts, *, normalize, batch_size, **kwargs) -> np.ndarray:
        self.seen += texts
        return np.asarray([[len(t), 1.0] for t in texts], np.float32)


def embedder(tmp_path, *overrides) -> TextEmbedder:
    cfg = compose_run_config(["model=small", f"cache.dir={tmp_path}", *overrides])
    return TextEmbedder(cfg, RecordingEncoder(), lazy_embedder(cfg).cache)


def test_queries_and_passages_get_the_authors_prefixes(tmp_path):
    emb = embedder(tmp_path)  # mE5-small under protocol=paper: "query: " / "passage: "
    emb.embed(["what is a cell"], role="query", task_name="NQ", task_type="Retrieval")
    emb.embed(["what is a cell"], role="document", task_name="NQ", task_type="Retrieval")
    assert emb.encoder.seen == ["query: what is a cell", "passage: what is a cell"]


def test_a_cached_text_never_reaches_the_model_again(tmp_path):
    first = embedder(tmp_path).embed(["a", "bb", "a"], role="query", task_name="NQ", task_type="Retrieval")
    again = embedder(tmp_path)  # a new process would see the same cache dir
    second = again.embed(["bb", "a", "ccc"], role="query", task_name="NQ", task_type="Retrieval")
    assert again.encoder.seen == ["query: ccc"]
    assert np.array_equal(second[:2], first[[1, 0]]) and second[2].tolist() == [len("query: ccc"), 1.0]


def test_shard_embedder_has_no_text_cache_and_loads_once_per_process(tmp_path):
    emb = shard_embedder(compose_run_config(["model=minilm", f"cache.dir={tmp_path}"]))
    assert emb.cache is None and emb.encoder._loader is load_encoder_once and not emb.encoder.loaded


def test_mteb_prompt_types_become_roles():
    from mteb.types import PromptType

    assert role_for_prompt_type(PromptType.query) == "query"
    assert role_for_prompt_type(PromptType.document) == "document"
    assert role_for_prompt_type(None) is None  # a symmetric task (STS, classification, ...)


TEXTS = ["A man is playing a guitar.", "Short.", "Le chat est assis sur le tapis.", "A man is playing a guitar."]


@pytest.mark.slow
def test_mteb_encoder_is_an_mteb_encoder_equal_to_sentence_transformers(minilm_dir, tmp_path):
    import mteb
    from datasets import Dataset
    from mteb.models.models_protocols import EncoderProtocol
    from sentence_transformers import SentenceTransformer
    from torch.utils.data import DataLoader

    cfg = compose_run_config(["model=minilm", f"cache.dir={tmp_path}", "device=cpu"])
    emb = lazy_embedder(cfg)
    encoder = MtebEncoder(emb, emb.encoder.mteb_model_meta)
    assert isinstance(encoder, EncoderProtocol)
    loader = DataLoader(Dataset.from_dict({"text": TEXTS}), batch_size=2)
    out = encoder.encode(loader, task_metadata=mteb.get_task("STS12").metadata, hf_split="test", hf_subset="default")
    reference = SentenceTransformer(str(minilm_dir), device="cpu").encode(TEXTS, convert_to_numpy=True)
    assert np.abs(out - reference).max() < 1e-5
    sims = encoder.similarity(out[:2], out[:3])
    assert sims.shape == (2, 3) and abs(float(sims[0, 0]) - 1.0) < 1e-5
    assert encoder.similarity_pairwise(out[:2], out[:2]).shape == (2,)
    assert encoder.mteb_model_meta.embed_dim == 384
