"""Mean pooling by hand, and the length-sorted batch plan."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from evaluation.config import RunConfig
from evaluation.models.batching import (
    StreamStats,
    TextBlocks,
    block_batches,
    block_stream,
    collate,
    length_sorted_batches,
    pad_multiple,
    padded_width,
    prefetch_batches,
    tokenize,
)
from evaluation.models.pooling import cls_pool, mean_pool, pool
from evaluation.shards import shard_plan


def test_mean_pool_by_hand():
    hidden = torch.tensor(
        [
            [[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]],  # 2 tokens + 1 pad
            [[1.0, 1.0], [2.0, 3.0], [6.0, 8.0]],  # 3 tokens
        ]
    )
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    expected = torch.tensor([[(1 + 3) / 2, (2 + 4) / 2], [(1 + 2 + 6) / 3, (1 + 3 + 8) / 3]])
    assert torch.allclose(mean_pool(hidden, mask), expected)
    assert torch.equal(cls_pool(hidden, mask), hidden[:, 0])
    normed = pool(hidden, mask, "mean", normalize=True)
    assert torch.allclose(normed, expected / expected.norm(dim=1, keepdim=True))


def test_mean_pool_of_fp16_is_float32():
    hidden = torch.full((1, 512, 4), 60.0, dtype=torch.float16)  # fp16 sum would be 30720 +- 16
    out = mean_pool(hidden, torch.ones(1, 512, dtype=torch.long))
    assert out.dtype == torch.float32 and torch.equal(out, torch.full((1, 4), 60.0))


def test_batches_are_longest_first_and_stable():
    lengths = np.array([3, 9, 3, 7, 9, 1])
    batches = length_sorted_batches(lengths, batch_size=4)
    assert [b.tolist() for b in batches] == [[1, 4, 3, 0], [2, 5]]


class _Tok:
    """Stand-in tokenizer: one id per character, [CLS]=101 ... [SEP]=102, truncated."""

    pad_token_id = 0

    def __call__(self, texts, truncation, max_length, **kwargs):
        return {"input_ids": [([101] + [ord(c) for c in t] + [102])[:max_length] for t in texts]}


def test_collate_pads_to_multiple_of_8_and_truncates():
    tokens = tokenize(_Tok(), ["ab", "abcdefghij", "a" * 50], max_length=20)
    assert tokens.lengths.tolist() == [4, 12, 20]
    batch = collate(tokens, np.array([1, 0]), pad_id=0, max_length=20, pin=False)
    assert batch.input_ids.shape == (2, 16)  # 12 -> 16
    assert batch.input_ids[1].tolist() == [101, 97, 98, 102] + [0] * 12
    assert batch.attention_mask.sum(dim=1).tolist() == [12, 4]


def test_collate_never_pads_past_max_length():
    tokens = tokenize(_Tok(), ["a" * 20], max_length=514)
    assert collate(tokens, np.array([0]), pad_id=0, max_length=514, pin=False).input_ids.shape == (1, 24)
    tokens = tokenize(_Tok(), ["a" * 600], max_length=514)
    assert collate(tokens, np.array([0]), pad_id=0, max_length=514, pin=False).input_ids.shape == (1, 514)


def test_prefetch_yields_every_batch_in_order():
    tokens = tokenize(_Tok(), [str(i) * (i % 7 + 1) for i in range(23)], max_length=32)
    batches = length_sorted_batches(tokens.lengths, 5)
    got = [b.index.tolist() for b in prefetch_batches(tokens, batches, pad_id=0, max_length=32, pin=False)]
    assert got == [b.tolist() for b in batches]


def test_prefetch_reraises_errors_from_the_thread():
    tokens = tokenize(_Tok(), ["abc"], max_length=8)
    with pytest.raises(IndexError):
        list(prefetch_batches(tokens, [np.array([5])], pad_id=0, max_length=8, pin=False))


def test_padding_multiple_is_8_on_cuda_and_1_on_cpu():
    assert pad_multiple("cuda") == pad_multiple(torch.device("cuda:1")) == 8
    assert pad_multiple("cpu") == pad_multiple(torch.device("cpu")) == 1


def test_collate_with_multiple_1_pads_to_the_longest_only():
    tokens = tokenize(_Tok(), ["ab", "abcdefghij", "a" * 50], max_length=20)
    batch = collate(tokens, np.array([1, 0]), pad_id=0, max_length=20, pin=False, multiple=1)
    assert batch.input_ids.shape == (2, 12) and batch.attention_mask.sum(dim=1).tolist() == [12, 4]
    got = list(prefetch_batches(tokens, [np.array([1, 0])], pad_id=0, max_length=20, pin=False, multiple=1))
    assert got[0].input_ids.shape == (2, 12)


def test_block_batches_by_hand():
    lengths = np.array([3, 9, 3, 7, 9, 1, 5])
    # blocks [0:4] and [4:7], each sorted longest first (stable) and cut into batches of 3
    assert [b.tolist() for b in block_batches(lengths, 3, 4)] == [[1, 3, 0], [2], [4, 6, 5]]
    one_block = [b.tolist() for b in length_sorted_batches(lengths, 3)]
    assert [b.tolist() for b in block_batches(lengths, 3, 100)] == one_block
    with pytest.raises(ValueError):
        block_batches(lengths, 3, 0)


@pytest.mark.parametrize("n_shards", [1, 2, 3, 4, 64])
def test_every_shard_count_runs_the_same_batch_list(n_shards):
    """What makes 1, 2, 4 or 64 shards give the same vectors: shard i's batches (rows counted from its first row,
    as the encoder sees them) shifted by its start are exactly the one-shard batches, in the same order."""
    lengths = np.random.default_rng(0).integers(1, 512, 5000)
    whole = [b.tolist() for b in block_batches(lengths, 64, 256)]
    sharded = [(rng.start + b).tolist() for rng in shard_plan(len(lengths), n_shards, 256)
               for b in block_batches(lengths[rng.start : rng.end], 64, 256)]
    assert sharded == whole


def _miracl_like_lengths(n: int) -> np.ndarray:
    """Token counts shaped like MIRACL passages (median ~100 XLM-R tokens, a long tail cut at 512)."""
    return np.clip(np.random.default_rng(1).lognormal(np.log(100), 0.7, n).astype(int) + 2, 3, 512)


@pytest.mark.parametrize("batch_size,multiple", [(64, 1), (256, 8), (512, 8)])
def test_block_batches_pad_within_5_percent_of_a_global_sort(batch_size, multiple):
    """Batches and padded tokens of the default blocks against the bare loop's global length sort (65,536
    passages); fixed-width batches (the old corpus path) made 436 batches instead of 256 at batch 256 (issue 13)."""
    lengths = _miracl_like_lengths(65536)

    def padded(batches):
        return sum(len(b) * int(padded_width(lengths[b].max(), 512, multiple)) for b in batches)

    ours, bare = block_batches(lengths, batch_size, RunConfig.block_rows), length_sorted_batches(lengths, batch_size)
    assert len(bare) == 65536 // batch_size and len(ours) <= 1.05 * len(bare)
    assert sorted(np.concatenate(ours).tolist()) == list(range(65536))
    assert padded(bare) <= padded(ours) <= 1.05 * padded(bare)


def test_tokenizer_threads_come_from_the_environment(monkeypatch):
    from evaluation.errors import ConfigError
    from evaluation.models.batching import tokenizer_threads

    monkeypatch.setenv("ME5_EVAL_TOKENIZER_THREADS", "6")
    assert tokenizer_threads() == 6
    monkeypatch.delenv("ME5_EVAL_TOKENIZER_THREADS")
    assert tokenizer_threads(3) == 3 and 1 <= tokenizer_threads() <= 8
    monkeypatch.setenv("ME5_EVAL_TOKENIZER_THREADS", "0")
    with pytest.raises(ConfigError, match="ME5_EVAL_TOKENIZER_THREADS='0'"):
        tokenizer_threads()


def test_block_stream_yields_every_block_batch_in_order_with_stats():
    texts = [str(i) * (i % 7 + 1) for i in range(23)]
    stats = StreamStats()
    got = list(block_stream(_Tok(), TextBlocks.of(texts, 10), batch_size=4, max_length=32, pin=False, multiple=1,
                            threads=2, stats=stats))
    tokens = tokenize(_Tok(), texts, 32)
    expected = block_batches(tokens.lengths, 4, 10)
    assert [b.index.tolist() for b in got] == [b.tolist() for b in expected]
    assert stats.batches == len(expected) == 7 and stats.real_tokens == int(tokens.lengths.sum())
    assert stats.padded_tokens == sum(len(b) * int(tokens.lengths[b].max()) for b in expected)


def test_text_blocks_given_as_read_give_the_batches_of_the_list():
    """A shard read block by block (a generator) batches exactly as the same texts in one list."""
    texts = [str(i) * (i % 7 + 1) for i in range(23)]
    read = TextBlocks(23, 10, (texts[s : s + 10] for s in range(0, 23, 10)))
    streamed = list(block_stream(_Tok(), read, batch_size=4, max_length=32, pin=False, multiple=1))
    listed = list(block_stream(_Tok(), TextBlocks.of(texts, 10), batch_size=4, max_length=32, pin=False, multiple=1))
    assert [b.index.tolist() for b in streamed] == [b.index.tolist() for b in listed]
    assert all(torch.equal(a.input_ids, b.input_ids) for a, b in zip(streamed, listed, strict=True))
    assert list(TextBlocks.of(texts, 10)) == texts


@pytest.mark.parametrize(("n", "blocks", "message"), [
    (23, [["a"] * 10, ["a"] * 5, ["a"] * 8], "a block of 8 texts after 15"),  # a short block that is not the last
    (23, [["a"] * 10, ["a"] * 11, ["a"] * 2], "a block of 11 texts"),
    (23, [["a"] * 10, ["a"] * 10], "held 20 texts, 23 were announced"),
])
def test_text_blocks_refuse_blocks_that_would_change_the_batches(n, blocks, message):
    with pytest.raises(ValueError, match=message):
        list(TextBlocks(n, 10, iter(blocks)).blocks())
