"""E5Encoder on all-MiniLM-L6-v2: equal to sentence-transformers, order-preserving, deduplicating.

(Its mteb adapter, evaluation.encode.MtebEncoder, is tested in tests/test_encode.py.)"""

from __future__ import annotations

import numpy as np
import pytest

TEXTS = [
    "A man is playing a guitar.",
    "The quick brown fox jumps over the lazy dog near the river bank on a sunny afternoon.",
    "Short.",
    "How do I reset my online banking password?",
    "A man is playing a guitar.",  # duplicate of the first
    "Le chat est assis sur le tapis.",
    "Stock markets fell sharply on Tuesday after the central bank raised interest rates again. " * 30,  # > 256
    "x",
    "Two dogs run through a field of tall grass while their owner watches from a distance.",
]


@pytest.fixture(scope="module")
def reference(minilm_dir):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(minilm_dir), device="cpu")
    assert model.max_seq_length == 256
    return model.encode(TEXTS, batch_size=4, convert_to_numpy=True)


def test_equals_sentence_transformers(minilm_encoder, reference):
    # all-MiniLM takes no prompt, and sentence-transformers' pipeline ends in a Normalize module
    ours = minilm_encoder.encode_formatted(TEXTS, normalize=True, batch_size=3)
    assert ours.dtype == np.float32 and ours.shape == (len(TEXTS), 384)
    assert np.abs(ours - reference).max() < 1e-5


def test_sorted_batches_equal_one_at_a_time_in_input_order(minilm_encoder):
    batched = minilm_encoder.encode_formatted(TEXTS, normalize=True, batch_size=4, show_progress=False)
    single = np.stack([minilm_encoder.encode_formatted([t], normalize=True, batch_size=1)[0] for t in TEXTS])
    assert np.abs(batched - single).max() < 1e-5


def test_cpu_batches_are_padded_to_their_longest_text_only(minilm_encoder, monkeypatch):
    """Multiples of 8 are for CUDA's tensor cores; on CPU every padded column is extra work."""
    widths, forward = [], minilm_encoder._forward

    def recording(input_ids, attention_mask, normalize):
        widths.append((input_ids.shape[1], int(attention_mask.sum(dim=1).max())))
        return forward(input_ids, attention_mask, normalize)

    monkeypatch.setattr(minilm_encoder, "_forward", recording)
    minilm_encoder.encode_formatted(TEXTS, normalize=True, batch_size=3, show_progress=False)
    assert widths and all(width == longest for width, longest in widths)
    assert any(width % 8 for width, _ in widths)


def test_blocks_tokenised_ahead_of_the_forward_give_the_same_vectors(minilm_encoder, monkeypatch):
    """Blocks of texts are tokenised in a thread pool while earlier blocks encode (for the GPU)."""
    import evaluation.models.encoder as encoder_module

    whole = minilm_encoder.encode_formatted(TEXTS, normalize=True, batch_size=2, show_progress=False)
    monkeypatch.setattr(encoder_module, "TOKENIZE_CHUNK_TEXTS", 3)
    monkeypatch.setenv("ME5_EVAL_TOKENIZER_THREADS", "2")
    chunked = minilm_encoder.encode_formatted(TEXTS, normalize=True, batch_size=2, show_progress=False)
    assert minilm_encoder.last_stats["unique"] == len(TEXTS) - 1 and minilm_encoder.last_stats["batches"] == 5
    assert np.abs(chunked - whole).max() < 1e-5 and np.array_equal(chunked[0], chunked[4])


@pytest.mark.parametrize("n_shards", [2, 3])
def test_a_corpus_shard_of_whole_blocks_encodes_to_the_same_bits_as_the_whole_corpus(minilm_encoder, n_shards):
    """Corpus shards (block_rows): each block is batched on its own, so a shard encoded alone gives the bits the
    one-shard run gives, and duplicates are encoded as they come (no dedupe across a shard)."""
    from evaluation.shards import shard_plan

    whole = minilm_encoder.encode_formatted(TEXTS, normalize=True, batch_size=2, show_progress=False, block_rows=2)
    assert minilm_encoder.last_stats["unique"] == len(TEXTS) and minilm_encoder.last_stats["batches"] == 5
    parts = [minilm_encoder.encode_formatted(TEXTS[r.start : r.end], normalize=True, batch_size=2,
                                             show_progress=False, block_rows=2)
             for r in shard_plan(len(TEXTS), n_shards, 2)]
    assert np.array_equal(np.concatenate(parts), whole)


def test_identical_texts_are_encoded_once(minilm_encoder):
    out = minilm_encoder.encode_formatted(TEXTS, normalize=True, batch_size=4, show_progress=False)
    assert minilm_encoder.last_stats["unique"] == len(TEXTS) - 1
    assert np.array_equal(out[0], out[4])


def test_normalisation_is_the_callers_choice(minilm_encoder):
    """(TextEmbedder asks for none on Classification under the paper protocol: models.prompts.should_normalize.)"""
    raw = minilm_encoder.encode_formatted(TEXTS[:3], normalize=False, show_progress=False)
    unit = minilm_encoder.encode_formatted(TEXTS[:3], normalize=True, show_progress=False)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)
    assert np.allclose(unit, raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-6)


def test_empty_input(minilm_encoder):
    assert minilm_encoder.encode_formatted([], normalize=True).shape == (0, 384)


def test_fingerprint_names_weights_and_numerics(minilm_encoder):
    fp = minilm_encoder.model_fingerprint()
    assert fp.startswith("sha256:") and fp.endswith("|pool=mean|max_length=256|dtype=float32")
