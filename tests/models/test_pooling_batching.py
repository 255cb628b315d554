"""Mean pooling by hand, and the length-sorted batch plan."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from evaluation.models.batching import collate, length_sorted_batches, pad_multiple, prefetch_batches, tokenize
from evaluation.models.pooling import cls_pool, mean_pool, pool


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


def test_fixed_width_groups_follow_the_multiple():
    lengths = np.array([3, 9, 3, 7, 9, 1])
    assert [b.tolist() for b in length_sorted_batches(lengths, 4, max_length=512)] == [[1, 4], [3, 0, 2, 5]]
    by_length = length_sorted_batches(lengths, 4, max_length=512, multiple=1)
    assert [b.tolist() for b in by_length] == [[1, 4], [3], [0, 2], [5]]


def test_fixed_padding_batches_never_mix_padded_widths():
    """What makes 1, 2 and 4 shards give the same vectors: a text is padded to its own width (multiple of 8)."""
    lengths = np.array([3, 9, 3, 7, 9, 1])
    assert [b.tolist() for b in length_sorted_batches(lengths, 4)] == [[1, 4, 3, 0], [2, 5]]
    assert [b.tolist() for b in length_sorted_batches(lengths, 4, max_length=512)] == [[1, 4], [3, 0, 2, 5]]
    # at max_length the width is max_length itself, not the next multiple of 8
    assert [b.tolist() for b in length_sorted_batches(np.array([10, 12, 9]), 8, max_length=10)] == [[1], [0, 2]]
