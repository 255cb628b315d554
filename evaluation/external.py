"""An in-memory model for `evaluation.evaluate`: any object following mteb's EncoderProtocol, or a SentenceTransformer.

`ProtocolEmbedder` stands where the runner's `TextEmbedder` stands: retrieval (our shards, exact search, trec_eval /
mteb metrics) calls the object's `encode(DataLoader, task_metadata=..., hf_split=..., hf_subset=...,
prompt_type=...)` for queries and documents; every other task type hands the object to mteb's evaluator as it is.
The object applies its own prompts, so ours are off (prompt_style=none). A SentenceTransformer is wrapped by mteb's
own `SentenceTransformerEncoderWrapper` (its prompts resolved as mteb does).

An in-memory model has no files to fingerprint, so nothing it encodes is cached across calls: the text cache is off
and the runner puts corpus shards in a temporary folder (evaluation/api.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evaluation.config import RunConfig
from evaluation.errors import ConfigError, ModelOutputError
from evaluation.suites import mteb_task


def as_mteb_encoder(model: Any) -> Any:
    """The object mteb's evaluators get: a SentenceTransformer wrapped as mteb wraps it, else ``model`` itself."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:  # without sentence-transformers installed, no object can be one
        SentenceTransformer = ()  # noqa: N806
    if isinstance(model, SentenceTransformer):
        from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper

        return SentenceTransformerEncoderWrapper(model)
    if not callable(getattr(model, "encode", None)):
        raise ConfigError(f"evaluate() needs a SentenceTransformer or an object with mteb's encoder protocol "
                          f"(encode(inputs, *, task_metadata, hf_split, hf_subset, prompt_type)); got "
                          f"{type(model).__name__}")
    return model


def model_name_revision(model: Any) -> tuple[str | None, str | None]:
    """The name and revision the object's mteb_model_meta gives (None where it has none)."""
    meta = getattr(model, "mteb_model_meta", None)
    name = getattr(meta, "name", None)
    revision = getattr(meta, "revision", None)
    # mteb's placeholders for "unknown" (ModelMeta.create_empty / from_sentence_transformer_model)
    known = name and not str(name).startswith("no_model_name")
    return (name if known else None), (revision if revision and not revision.startswith("no_revision") else None)


@dataclass
class _ModelInfo:
    """What the runner reads from `embedder.encoder` (provenance, model_meta.json)."""

    model: Any
    dim: int | None = None
    dtype: str = "unknown"
    device: str = "unknown"
    fingerprint: str = field(default_factory=lambda: f"in-memory:{uuid.uuid4().hex[:16]}")  # unique per call

    def model_fingerprint(self) -> str:
        return self.fingerprint

    @property
    def mteb_model_meta(self) -> Any:
        return getattr(self.model, "mteb_model_meta", None)


class ProtocolEmbedder:
    """The TextEmbedder interface over an mteb-protocol object (no prompts of ours, no cache)."""

    def __init__(self, cfg: RunConfig, model: Any):
        if cfg.model.prompt_style != "none":
            raise ConfigError("an in-memory model applies its own prompts: model.prompt_style must be none")
        meta = getattr(model, "mteb_model_meta", None)
        self.cfg, self.model = cfg, model
        self.encoder = _ModelInfo(model, dim=getattr(meta, "embed_dim", None),
                                  dtype=str(getattr(getattr(model, "model", None), "dtype", "unknown")),
                                  device=str(getattr(getattr(model, "model", None), "device", "unknown")))

    @property
    def fingerprint(self) -> str:
        return self.encoder.model_fingerprint()

    def mteb_encoder(self) -> Any:
        return _Complete(self.model, self.cfg)

    def embed(self, texts: list[str], *, role: str | None, task_name: str, task_type: str,
              hf_split: str = "test", hf_subset: str = "default") -> np.ndarray:
        """Retrieval queries (and documents, through embed_corpus); L2-normalised: the search ranks by inner
        product, which is mteb's cosine similarity on normalised vectors."""
        from datasets import Dataset
        from mteb.types import PromptType
        from torch.utils.data import DataLoader

        loader = DataLoader(Dataset.from_dict({"text": list(texts)}), batch_size=self.cfg.batch_size)
        emb = self.model.encode(loader, task_metadata=mteb_task(task_name).metadata, hf_split=hf_split,
                                hf_subset=hf_subset, prompt_type=PromptType(role) if role else None)
        emb = np.asarray(emb.float().cpu() if hasattr(emb, "cpu") else emb, dtype=np.float32)
        if emb.shape[0] != len(texts):
            raise ConfigError(f"{type(self.model).__name__}.encode returned {emb.shape[0]} vectors for {len(texts)} "
                              "texts; it must return one row per input text")
        if not np.isfinite(emb).all():
            raise ModelOutputError(f"{type(self.model).__name__}.encode returned NaN/inf for {task_name}; check the "
                                   "model (e.g. float16 overflow: run it in float32)")
        self.encoder.dim = emb.shape[1]
        norms = np.linalg.norm(emb, axis=1, keepdims=True)
        return emb / np.maximum(norms, 1e-12)

    def embed_corpus(self, inputs: list[str], *, task_name: str, task_type: str, hf_split: str,
                     hf_subset: str, block_rows: int) -> np.ndarray:
        # the object batches as it likes: its vectors may depend on the shard count only through float rounding
        return self.embed(inputs, role="document", task_name=task_name, task_type=task_type, hf_split=hf_split,
                          hf_subset=hf_subset)


class _Complete:
    """The object with what mteb's `isinstance(model, EncoderProtocol)` check also wants (mteb_model_meta,
    similarity, similarity_pairwise), from the object where it has them, else mteb's cosine defaults."""

    def __init__(self, model: Any, cfg: RunConfig):
        self._model, self._cfg = model, cfg

    def encode(self, inputs, **kwargs):
        return self._model.encode(inputs, **kwargs)

    @property
    def mteb_model_meta(self) -> Any:
        from evaluation.models.encoder import model_meta  # deferred: mteb's registry is heavy

        own = getattr(self._model, "mteb_model_meta", None)
        return own if own is not None else model_meta(self._cfg.model, None)

    def similarity(self, embeddings1, embeddings2):
        from mteb.similarity_functions import cos_sim

        own = getattr(self._model, "similarity", None)
        return own(embeddings1, embeddings2) if callable(own) else cos_sim(embeddings1, embeddings2)

    def similarity_pairwise(self, embeddings1, embeddings2):
        from mteb.similarity_functions import pairwise_cos_sim

        own = getattr(self._model, "similarity_pairwise", None)
        return own(embeddings1, embeddings2) if callable(own) else pairwise_cos_sim(embeddings1, embeddings2)
