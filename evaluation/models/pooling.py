"""Sentence embeddings from token states: the authors' `pool` (unilm e5/utils.py), computed in float32."""

from __future__ import annotations

import torch


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean over non-padding tokens ([B, T, H], [B, T] -> [B, H]).

    Same as unilm's 'avg' (masked_fill pads to 0, sum / number of tokens), but summed in float32 so fp16
    hidden states of 512-token inputs do not lose precision in the sum.
    """
    mask = attention_mask.unsqueeze(-1).to(torch.float32)
    summed = (hidden.to(torch.float32) * mask).sum(dim=1)
    return summed / mask.sum(dim=1).clamp(min=1.0)


def cls_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The first token's state (right padding keeps [CLS]/<s> at position 0)."""
    return hidden[:, 0].to(torch.float32)


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str, normalize: bool) -> torch.Tensor:
    """Pooled (and optionally L2-normalised) float32 embeddings."""
    emb = mean_pool(hidden, attention_mask) if pooling == "mean" else cls_pool(hidden, attention_mask)
    return torch.nn.functional.normalize(emb, p=2, dim=-1) if normalize else emb
