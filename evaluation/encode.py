"""Text -> embedding with the run's protocol and the content-addressed cache.

`TextEmbedder` is the one place where prompts are applied, the cache is consulted and the model runs.
`MtebEncoder` is the one adapter to mteb's EncoderProtocol: it exposes a TextEmbedder to mteb's evaluators, so STS /
classification / clustering / bitext go through the same prompts and cache as retrieval. mteb's own cache keys
ignore the prompt type (mteb issue #5383); ours key on the final input text (prompt applied), so "query: x" and
"passage: x" differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluation.cache import EmbeddingCache, cache_key, cached_encode
from evaluation.config import RunConfig
from evaluation.models.lazy import LazyEncoder
from evaluation.models.loading import load_encoder_once
from evaluation.models.prompts import format_inputs, should_normalize


@dataclass
class TextEmbedder:
    cfg: RunConfig
    encoder: Any  # evaluation.models.lazy.LazyEncoder (tests may pass an E5Encoder or a stub with the same methods)
    cache: EmbeddingCache | None

    @property
    def fingerprint(self) -> str:
        return self.encoder.model_fingerprint()

    def embed(self, texts: list[str], *, role: str | None, task_name: str, task_type: str) -> np.ndarray:
        inputs = format_inputs(texts, role=role, task_name=task_name, task_type=task_type,
                               model_cfg=self.cfg.model, protocol=self.cfg.protocol)
        normalize = should_normalize(task_type, self.cfg.model, self.cfg.protocol)
        return self.embed_formatted(inputs, normalize=normalize, role=role)

    def embed_formatted(self, inputs: list[str], *, normalize: bool, role: str | None = None) -> np.ndarray:
        """Embeddings of final model inputs (prompts applied), through the cache when enabled."""
        m = self.cfg.model
        keys = [(cache_key(self.fingerprint, self.cfg.protocol, role or "symmetric", t, m.max_length, normalize), t)
                for t in inputs]

        def run_model(batch: list[str]) -> np.ndarray:
            return self.encoder.encode_formatted(batch, normalize=normalize, batch_size=self.cfg.batch_size)

        # a large outer batch lets the encoder sort by length across many texts; the cache stores per batch
        return cached_encode(self.cache, keys, run_model, batch_size=max(4096, self.cfg.batch_size))


def lazy_embedder(cfg: RunConfig, *, cache: bool | None = None, loader=None) -> TextEmbedder:
    """A TextEmbedder whose model loads on its first forward pass (see evaluation.models.lazy); with the run's
    embedding cache unless ``cache=False``."""
    use_cache = cfg.cache.enabled if cache is None else cache
    # the cache dir also remembers the weights' sha256 (evaluation/fingerprint.py): a rerun does not hash GBs again
    encoder = LazyEncoder(cfg.model, device=cfg.device, protocol=cfg.protocol, loader=loader,
                          memo_dir=cfg.cache.dir if cfg.cache.enabled else None)
    return TextEmbedder(cfg, encoder, EmbeddingCache(cfg.cache.dir, "texts") if use_cache else None)


def shard_embedder(cfg: RunConfig) -> TextEmbedder:
    """What ``shard_key`` / ``encode_shard`` need in a sweep: no text cache (the shard files are the cache), and a
    model that loads only when a shard actually has to be encoded, once per process (a worker runs many jobs)."""
    return lazy_embedder(cfg, cache=False, loader=load_encoder_once)


def role_for_prompt_type(prompt_type: Any) -> str | None:
    """mteb's PromptType -> our role; None = a symmetric task (mteb passed no prompt type)."""
    return getattr(prompt_type, "value", prompt_type)


class MtebEncoder:
    """mteb EncoderProtocol over a TextEmbedder (prompts + cache applied by us, not by mteb)."""

    def __init__(self, embedder: TextEmbedder, model_meta: Any):
        self.embedder = embedder
        self._meta = model_meta

    @property
    def mteb_model_meta(self):
        return self._meta

    def encode(self, inputs, *, task_metadata, hf_split, hf_subset, prompt_type=None, **kwargs) -> np.ndarray:
        texts = [text for batch in inputs for text in batch["text"]]
        return self.embedder.embed(texts, role=role_for_prompt_type(prompt_type),
                                   task_name=task_metadata.name, task_type=task_metadata.type)

    def similarity(self, embeddings1, embeddings2):
        from mteb.similarity_functions import cos_sim  # deferred: mteb is heavy, and only evaluators call this

        return cos_sim(embeddings1, embeddings2)

    def similarity_pairwise(self, embeddings1, embeddings2):
        from mteb.similarity_functions import pairwise_cos_sim  # deferred: as in similarity

        return pairwise_cos_sim(embeddings1, embeddings2)
