"""Block batches: texts cut into fixed blocks, each tokenised, sorted by token count and batched on its own.

Sorting longest first keeps padding small (the authors pad every batch with pad_to_multiple_of=8 but do not
sort) and makes an out-of-memory batch size fail on the first batch instead of hours in. Sorting within blocks of
16k texts (RunConfig.block_rows) pads within a few percent of a global sort up to batch 512, and because the
blocks are fixed (rows ``k*block_rows ..`` of the corpus) and a corpus shard is a range of whole blocks
(evaluation/shards.py), 1, 2 or 64 shards run exactly the same batches: the same vectors on CPU and GPU alike.
Blocks are tokenised by a pool of threads ahead of the model, and batches collated (padding, tensors, pinned
memory) in one more thread, so the accelerator does not wait on the CPU.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from evaluation.errors import ConfigError

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


def length_sorted_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Indices grouped into batches of ``batch_size``, longest first; stable, so equal lengths keep input order."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = np.argsort(-lengths, kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def block_batches(lengths: np.ndarray, batch_size: int, block_rows: int) -> list[np.ndarray]:
    """The batches of texts ``0..len(lengths)`` that start on a block boundary: each block of ``block_rows`` texts is
    length-sorted and batched on its own, so no batch depends on what lies outside its block."""
    if block_rows < 1:
        raise ValueError(f"block_rows must be >= 1, got {block_rows}")
    return [start + b for start in range(0, len(lengths), block_rows)
            for b in length_sorted_batches(lengths[start : start + block_rows], batch_size)]


def collate(
    tokens: TokenizedTexts, index: np.ndarray, pad_id: int, max_length: int, pin: bool, multiple: int = PAD_MULTIPLE,
    offset: int = 0,
) -> Batch:
    """Right-padded batch, padded up to a multiple of ``multiple`` (never past max(longest, max_length)); its
    ``index`` is shifted by ``offset`` (the position of ``tokens``' first text among all texts)."""
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
    return Batch(index=index + offset, input_ids=ids_t, attention_mask=mask_t)


def tokenizer_threads(default: int | None = None) -> int:
    """Tokeniser threads per process: ``ME5_EVAL_TOKENIZER_THREADS`` (the gpus launcher sets it per worker), else
    ``default``, else half the cores (at most 8; the fast tokenizer releases the GIL)."""
    value = os.environ.get("ME5_EVAL_TOKENIZER_THREADS")
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ConfigError(f"ME5_EVAL_TOKENIZER_THREADS={value!r}: give a whole number >= 1, or unset it")
        return int(value)
    return default or max(1, min(8, (os.cpu_count() or 2) // 2))


@dataclass
class StreamStats:
    """What a batch stream ran: batches, real and padded tokens (the padding a benchmark reports)."""

    batches: int = 0
    real_tokens: int = 0
    padded_tokens: int = 0


class TextBlocks:
    """``n`` texts given block by block, each block ``rows`` texts (the last may be shorter): a corpus shard read
    from its file while the model encodes the blocks before it (evaluation/sweep/shard_job.py). Iterating gives the
    texts one by one (what an encoder that wants a list makes of it); ``blocks()`` gives them once, block by block."""

    def __init__(self, n: int, rows: int, blocks: Iterable[Sequence[str]]):
        if rows < 1:
            raise ValueError(f"block rows must be >= 1, got {rows}")
        self.n, self.rows, self._blocks, self._used = n, rows, blocks, False

    @classmethod
    def of(cls, texts: Sequence[str] | TextBlocks, rows: int) -> TextBlocks:
        """``texts`` cut into blocks of ``rows`` (or as they are, when already blocks)."""
        if isinstance(texts, TextBlocks):
            return texts
        return cls(len(texts), rows, (texts[s : s + rows] for s in range(0, len(texts), rows)))

    def __len__(self) -> int:
        return self.n

    def blocks(self) -> Iterator[Sequence[str]]:
        """Each block once, checked: full blocks except the last, ``n`` texts in all (a shorter source, e.g. a file
        cut while it was read, must not give other batches, and so other vectors, than the whole corpus gives)."""
        if self._used:
            raise RuntimeError("TextBlocks can be read once")
        self._used, seen = True, 0
        for block in self._blocks:
            if seen % self.rows or len(block) > self.rows or not block:
                raise ValueError(f"a block of {len(block)} texts after {seen}: blocks must hold {self.rows} texts, "
                                 f"only the last fewer")
            seen += len(block)
            yield block
        if seen != self.n:
            raise ValueError(f"the blocks held {seen} texts, {self.n} were announced")

    def __iter__(self) -> Iterator[str]:
        for block in self.blocks():
            yield from block


def block_stream(
    tokenizer, texts: TextBlocks, *, batch_size: int, max_length: int, pin: bool, multiple: int = PAD_MULTIPLE,
    threads: int = 1, stats: StreamStats | None = None,
) -> Iterator[Batch]:
    """Every batch of ``block_batches`` over ``texts``, collated, in order (``Batch.index`` counts from the first).

    Blocks are taken from ``texts`` (read, when it reads a file) and handed to ``threads`` tokeniser threads,
    ``threads + 1`` blocks ahead of the one being batched; batches are collated in another thread two ahead of the
    consumer (``prefetch``), so reading, tokenising and collating all overlap the forward pass."""
    pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix="me5-tokenize")

    def batches() -> Iterator[Batch]:
        blocks, ahead, start = texts.blocks(), deque(), 0

        def read_ahead() -> None:
            while len(ahead) < threads + 1 and (block := next(blocks, None)) is not None:
                ahead.append(pool.submit(tokenize, tokenizer, block, max_length))

        read_ahead()
        while ahead:
            tokens = ahead.popleft().result()
            read_ahead()
            for index in block_batches(tokens.lengths, batch_size, texts.rows):
                batch = collate(tokens, index, tokenizer.pad_token_id, max_length, pin, multiple, offset=start)
                if stats is not None:
                    stats.batches += 1
                    stats.real_tokens += int(batch.attention_mask.sum())
                    stats.padded_tokens += batch.input_ids.numel()
                yield batch
            start += len(tokens)

    try:
        yield from prefetch(batches)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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
    """``batches`` of ``tokens`` collated in a background thread, ``depth`` ahead of the consumer."""
    return prefetch(lambda: (collate(tokens, index, pad_id, max_length, pin, multiple) for index in batches), depth)


def prefetch(make_items: Callable[[], Iterable], depth: int = 2) -> Iterator:
    """The items of ``make_items()``, produced in a background thread ``depth`` ahead of the consumer.

    An exception in the thread is re-raised in the consumer; a consumer that stops early (an exception in
    the forward pass) stops the thread through `stop`.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in make_items():
                if stop.is_set():
                    return
                _put(q, item, stop)
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
