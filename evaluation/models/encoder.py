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
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import torch
from tqdm.auto import tqdm

from evaluation.errors import ConfigError
from evaluation.models.batching import length_sorted_batches, pad_multiple, prefetch_batches, tokenize
from evaluation.models.pooling import POOLINGS, pool

if TYPE_CHECKING:
    from mteb.models.model_meta import ModelMeta

    from evaluation.config import ModelConfig

DEFAULT_BATCH_SIZE = 64  # the authors' 64 per GPU
# Texts per tokenisation chunk: sorting within 16k texts pads as little as sorting everything (256 batches of 64
# per chunk), and the next chunk's tokenisation overlaps this one's forward passes.
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
        self.last_stats: dict[str, float] = {}  # texts, unique, tokenize_s, encode_s (whole call) of the last call

    def encode_formatted(
        self, texts: list[str], *, normalize: bool, batch_size: int = DEFAULT_BATCH_SIZE, show_progress: bool = True,
        fixed_padding: bool = False,
    ) -> np.ndarray:
        """Embeddings of texts exactly as given (no prompts). Identical texts are encoded once.

        Texts are tokenised and length-sorted in chunks of TOKENIZE_CHUNK_TEXTS; the next chunk is tokenised while
        the current one is encoded. fixed_padding: batch only texts of the same padded width, so a text's vector
        does not depend on the other texts of the call (corpus shards: 1, 2 or 64 shards give the same bits)."""
        unique, inverse = _dedupe(texts)
        t0 = time.perf_counter()
        out = np.zeros((len(unique), self.dim), np.float32)
        chunks = [unique[s : s + TOKENIZE_CHUNK_TEXTS] for s in range(0, len(unique), TOKENIZE_CHUNK_TEXTS)]
        tokenize_s = 0.0

        def tokenize_timed(chunk: list[str]):
            start = time.perf_counter()
            return tokenize(self.tokenizer, chunk, self.cfg.max_length), time.perf_counter() - start

        # The next chunk is tokenised in a background thread while this one runs through the model (the Rust
        # tokenizer releases the GIL): on a GPU, tokenising first and encoding after would add the two times.
        with (
            ThreadPoolExecutor(1, thread_name_prefix="me5-tokenize") as pool,
            tqdm(total=len(unique), unit="text", desc="encoding", disable=not show_progress) as bar,
        ):
            future = pool.submit(tokenize_timed, chunks[0]) if chunks else None
            start = 0
            for k in range(len(chunks)):
                tokens, seconds = future.result()
                tokenize_s += seconds
                if k + 1 < len(chunks):
                    future = pool.submit(tokenize_timed, chunks[k + 1])
                out[start : start + len(tokens)] = self._encode_chunk(tokens, batch_size, normalize, bar, fixed_padding)
                start += len(tokens)
        total = time.perf_counter() - t0
        self.last_stats = dict(texts=len(texts), unique=len(unique), tokenize_s=tokenize_s, encode_s=total)
        return out[inverse]

    def _encode_tokens(
        self, tokens, batch_size: int, normalize: bool, show_progress: bool, fixed_padding: bool = False
    ) -> np.ndarray:
        """[len(tokens), dim] in input order; batches run longest first."""
        with tqdm(total=len(tokens), unit="text", desc="encoding", disable=not show_progress) as bar:
            return self._encode_chunk(tokens, batch_size, normalize, bar, fixed_padding)

    def _encode_chunk(self, tokens, batch_size: int, normalize: bool, bar, fixed_padding: bool) -> np.ndarray:
        out = np.zeros((len(tokens), self.dim), np.float32)
        multiple = pad_multiple(self.device)  # 8 for CUDA's tensor cores; on CPU padding is only extra work
        batches = length_sorted_batches(
            tokens.lengths, batch_size, self.cfg.max_length if fixed_padding else None, multiple=multiple
        )
        stream = prefetch_batches(
            tokens,
            batches,
            pad_id=self.tokenizer.pad_token_id,
            max_length=self.cfg.max_length,
            pin=self.device.type == "cuda",
            multiple=multiple,
        )
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
        return out

    @torch.inference_mode()
    def _forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, normalize: bool) -> torch.Tensor:
        input_ids = input_ids.to(self.device, non_blocking=True)
        attention_mask = attention_mask.to(self.device, non_blocking=True)
        with self._autocast():
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return pool(hidden, attention_mask, self.cfg.pooling, normalize)

    def _autocast(self):
        """fp16/bf16 on CUDA runs under autocast as the authors do: LayerNorm/softmax stay in float32."""
        if self.device.type == "cuda" and self.dtype in (torch.float16, torch.bfloat16):
            return torch.autocast(device_type="cuda", dtype=self.dtype)
        return contextlib.nullcontext()

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
