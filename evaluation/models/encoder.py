"""E5Encoder: mE5 (or any BERT-like) encoder on plain transformers: final input texts in, embeddings out.

The numerics follow the authors (unilm e5/): mean pooling over non-padding tokens, max_length 512 truncation,
batches padded to a multiple of 8 on CUDA (to the longest text on CPU, where padding is only extra work), fp16 +
autocast on CUDA, L2 normalisation when asked. Prompts are applied before (evaluation.models.prompts, through
evaluation.encode.TextEmbedder, which mteb's evaluators reach through evaluation.encode.MtebEncoder). Build one
with `evaluation.models.loading.load_encoder`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from tqdm.auto import tqdm

from evaluation.errors import ConfigError
from evaluation.models.batching import StreamStats, TextBlocks, block_stream, pad_multiple, tokenizer_threads
from evaluation.models.pooling import pool
from evaluation.validation import POOLINGS

if TYPE_CHECKING:
    from mteb.models.model_meta import ModelMeta

    from evaluation.config import ModelConfig

DEFAULT_BATCH_SIZE = 64  # the authors' 64 per GPU
# Texts per block outside corpus shards: sorting within 16k texts pads as little as sorting everything (256 batches
# of 64 per block), and the next blocks' tokenisation overlaps this one's forward passes.
TOKENIZE_CHUNK_TEXTS = 16384


class E5Encoder:
    """Encodes final input texts (prompts already applied) with a loaded transformers model: `encode_formatted`."""

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer,
        model_cfg: ModelConfig,
        *,
        device: torch.device,
        dtype: torch.dtype,
        protocol: str,
        fingerprint: str,
    ):
        if model_cfg.pooling not in POOLINGS:
            raise ConfigError(f"model.pooling={model_cfg.pooling!r} is not one of {', '.join(POOLINGS)}")
        self.model, self.tokenizer, self.cfg = model.eval(), tokenizer, model_cfg
        self.device, self.dtype, self.protocol = device, dtype, protocol
        self.dim = check_dim(int(model.config.hidden_size), model_cfg)  # mean/cls pooling keep the hidden size
        self._fingerprint = fingerprint
        self.last_stats: dict[str, float] = {}  # texts, unique, encode_s, batches, tokens... of the last call

    def encode_formatted(
        self, texts: Sequence[str] | TextBlocks, *, normalize: bool, batch_size: int = DEFAULT_BATCH_SIZE,
        show_progress: bool = True, block_rows: int | None = None,
    ) -> np.ndarray:
        """Embeddings of texts exactly as given (no prompts).

        Texts are cut into blocks, each length-sorted and batched on its own, tokenised by a thread pool while the
        model runs (``batching.block_stream``). block_rows=None: identical texts are encoded once, in blocks of
        TOKENIZE_CHUNK_TEXTS. block_rows=N (a corpus shard, which starts on a block boundary; ``texts`` may be
        TextBlocks of N, read while the model runs): every text, in blocks of N, so each batch, and with it each
        vector, is the same for 1, 2 or 64 shards."""
        if block_rows is None:
            unique, inverse = _dedupe(list(texts))
            blocks = TextBlocks.of(unique, TOKENIZE_CHUNK_TEXTS)
        else:
            blocks, inverse = TextBlocks.of(texts, block_rows), None
            if blocks.rows != block_rows:
                raise ValueError(f"texts come in blocks of {blocks.rows}, block_rows={block_rows} was asked")
        t0 = time.perf_counter()
        out = np.zeros((len(blocks), self.dim), np.float32)
        stats, threads = StreamStats(), tokenizer_threads()
        stream = block_stream(
            self.tokenizer, blocks, batch_size=batch_size, max_length=self.cfg.max_length,
            pin=self.device.type == "cuda", multiple=pad_multiple(self.device), threads=threads, stats=stats,
        )
        with tqdm(total=len(blocks), unit="text", desc="encoding", disable=not show_progress) as bar:
            self._run(stream, out, normalize, bar)
        self.last_stats = dict(texts=len(texts), unique=len(blocks), encode_s=time.perf_counter() - t0,
                               threads=threads, batches=stats.batches, real_tokens=stats.real_tokens,
                               padded_tokens=stats.padded_tokens)
        return out if inverse is None else out[inverse]

    def _run(self, stream, out: np.ndarray, normalize: bool, bar) -> None:
        """Every batch of ``stream`` through the model, its vectors stored at ``out[batch.index]``."""
        pending = None  # (index, embeddings still on the device) of the previous batch
        for batch in stream:
            emb = self._forward(batch.input_ids, batch.attention_mask, normalize)
            # Copy the previous batch back only once this one is queued: on CUDA the copy waits for
            # the GPU, which by then already has the next forward pass to run.
            if pending is not None:
                _store(out, *pending, bar)
            pending = (batch.index, emb)
        if pending is not None:
            _store(out, *pending, bar)

    @torch.inference_mode()
    def _forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, normalize: bool) -> torch.Tensor:
        input_ids = input_ids.to(self.device, non_blocking=True)
        attention_mask = attention_mask.to(self.device, non_blocking=True)
        with self._autocast():
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return pool(hidden, attention_mask, self.cfg.pooling, normalize)

    def _autocast(self):
        return cuda_autocast(self.device, self.dtype)

    def model_fingerprint(self) -> str:
        """Weights + numerics (pooling, max_length, dtype): the embedding cache key's model part."""
        return self._fingerprint


def _store(out: np.ndarray, index: np.ndarray, emb: torch.Tensor, bar) -> None:
    out[index] = emb.cpu().numpy()
    bar.update(len(index))


def _dedupe(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """(unique texts in first-seen order, index of each input text in them)."""
    position: dict[str, int] = {}
    inverse = np.fromiter((position.setdefault(t, len(position)) for t in texts), np.int64, len(texts))
    return list(position), inverse


def check_dim(dim: int, model_cfg: ModelConfig) -> int:
    """The model's embedding dim, if model.dim (when set) agrees."""
    if model_cfg.dim is not None and model_cfg.dim != dim:
        raise ConfigError(
            f"model {model_cfg.name} produces {dim}-dim embeddings but model.dim={model_cfg.dim}; "
            f"set model.dim={dim} (or pick the config whose dim is {model_cfg.dim}, e.g. model=base for 768)"
        )
    return dim


def model_meta(model_cfg: ModelConfig, dim: int) -> ModelMeta:
    """mteb's registry entry when mteb knows the name (release date, languages, training data for the
    zero-shot flag), with our revision and dim; otherwise a minimal cosine-similarity entry."""
    import mteb
    from mteb.models.model_meta import ModelMeta, ScoringFunction

    # mteb's results layout names a missing revision "no_revision_available" (ModelMeta.create_empty).
    revision = model_cfg.revision or "no_revision_available"
    ours = dict(revision=revision, embed_dim=dim, max_tokens=model_cfg.max_length)
    known = {m.name for m in mteb.get_model_metas()}
    if model_cfg.name in known:
        return mteb.get_model_meta(model_cfg.name).model_copy(update=ours)
    return ModelMeta.create_empty(
        overwrites=dict(name=model_cfg.name, similarity_fn_name=ScoringFunction.COSINE, **ours)
    )


def cuda_autocast(device: torch.device, dtype: torch.dtype):
    """fp16/bf16 on CUDA runs under autocast as the authors do: LayerNorm/softmax stay in float32."""
    if device.type == "cuda" and dtype in (torch.float16, torch.bfloat16):
        return torch.autocast(device_type="cuda", dtype=dtype)
    return contextlib.nullcontext()
