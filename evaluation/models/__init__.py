"""Encoders: prompts (paper / mteb protocol), the instruction table, pooling and batching, loading.

Import from the submodules (`evaluation.models.loading.load_encoder`, `evaluation.models.prompts...`);
this package does not import torch or mteb eagerly.
"""
