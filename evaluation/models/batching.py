"""Length-sorted batches: tokenise once, sort by token count, pad each batch to a multiple of 8 (on CUDA).

Sorting longest first keeps padding small (the authors pad every batch with pad_to_multiple_of=8 but do not
sort) and makes an out-of-memory batch size fail on the first batch instead of hours in. Batches are collated
(padding, tensors, pinned memory) in a background thread so the accelerator does not wait on the CPU.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

PAD_MULTIPLE = 8
_TOKENIZE_CHUNK = 4096  # texts per tokenizer call: big enough for the Rust tokenizer's threads


@dataclass(frozen=True)
class TokenizedTexts:
    """Token ids of many texts, stored flat (int32) so a large corpus chunk costs 4 bytes per token."""

    ids: np.ndarray  # int32, all texts concatenated
    offsets: np.ndarray  # int64, len n+1: text i is ids[offsets[i]:offsets[i+1]]

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1


@dataclass(frozen=True)
class Batch:
    index: np.ndarray  # positions of these texts in the TokenizedTexts
    input_ids: torch.Tensor  # [B, T] int64
    attention_mask: torch.Tensor  # [B, T] int64


def tokenize(tokenizer, texts: list[str], max_length: int) -> TokenizedTexts:
    """Token ids with special tokens, truncated at max_length (as the authors' create_batch_dict)."""
    chunks, lengths = [], []
    for start in range(0, len(texts), _TOKENIZE_CHUNK):
        ids = tokenizer(
            texts[start : start + _TOKENIZE_CHUNK],
            truncation=True,
            max_length=max_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]
        chunk_lengths = [len(x) for x in ids]
        lengths.extend(chunk_lengths)
        chunks.append(np.fromiter(itertools.chain.from_iterable(ids), np.int32, sum(chunk_lengths)))
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.concatenate(chunks) if chunks else np.zeros(0, np.int32)
    return TokenizedTexts(ids=flat, offsets=offsets)


def pad_multiple(device: torch.device | str) -> int:
    """The multiple batches are padded to: 8 on CUDA (tensor cores; the authors' pad_to_multiple_of=8), 1 elsewhere.

    On CPU a padded column costs as much as a real one (measured: reports/bench/README.md, section 1).
    """
    return PAD_MULTIPLE if torch.device(device).type == "cuda" else 1


def padded_width(n, max_length: int, multiple: int = PAD_MULTIPLE):
    """Width of a batch whose longest text has n tokens (int or array): the next multiple, but never past
    max(n, max_length)."""
    return np.minimum(-(-n // multiple) * multiple, np.maximum(n, max_length))


def length_sorted_batches(
    lengths: np.ndarray, batch_size: int, max_length: int | None = None, multiple: int = PAD_MULTIPLE
) -> list[np.ndarray]:
    """Indices grouped into batches, longest first; stable, so equal lengths keep input order.

    With ``max_length`` a batch never mixes texts of different padded widths (``collate``'s width of the text
    alone, with the same ``multiple``), so each text is padded the same whatever else is encoded with it and its
    embedding is the same bit for bit: a corpus encoded in 1, 2 or 64 shards gives identical vectors.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = np.argsort(-lengths, kind="stable")
    if max_length is None:
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    widths = padded_width(lengths[order], max_length, multiple)
    groups = np.split(order, np.flatnonzero(np.diff(widths)) + 1)
    return [g[i : i + batch_size] for g in groups for i in range(0, len(g), batch_size)]


def collate(
    tokens: TokenizedTexts, index: np.ndarray, pad_id: int, max_length: int, pin: bool, multiple: int = PAD_MULTIPLE
) -> Batch:
    """Right-padded batch, padded up to a multiple of ``multiple`` (never past max(longest, max_length))."""
    lengths = tokens.lengths[index]
    width = int(padded_width(int(lengths.max()), max_length, multiple))
    input_ids = np.full((len(index), width), pad_id, np.int64)
    mask = np.zeros((len(index), width), np.int64)
    for row, (i, n) in enumerate(zip(index, lengths, strict=True)):
        input_ids[row, :n] = tokens.ids[tokens.offsets[i] : tokens.offsets[i] + n]
        mask[row, :n] = 1
    ids_t, mask_t = torch.from_numpy(input_ids), torch.from_numpy(mask)
    if pin:
        ids_t, mask_t = ids_t.pin_memory(), mask_t.pin_memory()
    return Batch(index=index, input_ids=ids_t, attention_mask=mask_t)


def prefetch_batches(
    tokens: TokenizedTexts,
    batches: list[np.ndarray],
    *,
    pad_id: int,
    max_length: int,
    pin: bool,
    depth: int = 2,
    multiple: int = PAD_MULTIPLE,
) -> Iterator[Batch]:
    """Collate batches in a background thread, `depth` ahead of the consumer.

    An exception in the thread is re-raised in the consumer; a consumer that stops early (an exception in
    the forward pass) stops the thread through `stop`.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for index in batches:
                if stop.is_set():
                    return
                _put(q, collate(tokens, index, pad_id, max_length, pin, multiple), stop)
            _put(q, done, stop)
        except BaseException as e:  # handed to the consumer, which re-raises it
            _put(q, e, stop)

    thread = threading.Thread(target=produce, name="me5-collate", daemon=True)
    thread.start()
    try:
        while (item := q.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=10)


def _put(q: queue.Queue, item, stop: threading.Event) -> None:
    """Put unless the consumer has gone (then the thread must not block forever on a full queue)."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return
        except queue.Full:
            continue
