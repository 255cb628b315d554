"""The mteb bridge: real local data attached to real mteb tasks, evaluated by mteb's own evaluators.

A tiny deterministic encoder (hashed bag of words) stands in for a model: its scores are far above chance
only if texts, gold scores, labels, qrels and corpus ids are aligned the way mteb expects.
"""

from __future__ import annotations

import hashlib
import random
import re

import mteb
import numpy as np
import pytest
from mteb.types import PromptType

from evaluation.data import mteb_dataset, registry
from evaluation.data.types import BitextData, ClassificationData, PairScoreData
from evaluation.errors import ConfigError

DIM = 1024
ENCODE = {"batch_size": 256, "show_progress_bar": False}


class HashBowEncoder:
    """Implements mteb's EncoderProtocol: L2-normalised hashed bag of lower-cased word tokens."""

    def __init__(self) -> None:
        self.mteb_model_meta = mteb.get_model_meta("mteb/baseline-random-encoder")

    def encode(self, inputs, *, task_metadata, hf_split, hf_subset, prompt_type: PromptType | None = None, **kwargs):
        texts = [text for batch in inputs for text in batch["text"]]
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(token.encode()).hexdigest()[:8], 16) % DIM] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def similarity(self, a, b):
        return np.asarray(a) @ np.asarray(b).T

    def similarity_pairwise(self, a, b):
        return np.sum(np.asarray(a) * np.asarray(b), axis=1)


def test_fake_encoder_is_an_mteb_encoder():
    from mteb.models import EncoderProtocol

    assert isinstance(HashBowEncoder(), EncoderProtocol)


def test_stsbenchmark_through_mteb_evaluate(data_root):
    """The full mteb.evaluate path: it sees data_loaded and does not try to download."""
    task = mteb.get_task("STSBenchmark")
    data = registry.load_local("STSBenchmark", "default", "test", data_root)
    mteb_dataset.attach_local_data(task, {"default": data}, "test")
    with pytest.warns(UserWarning, match="superseded"):
        result = mteb.evaluate(HashBowEncoder(), [task], cache=None, show_progress_bar=False)
    scores = result.task_results[0].scores["test"][0]
    # bag of words gets a clear positive correlation; misaligned gold would give ~0
    assert 0.4 < scores["cosine_spearman"] < 0.9
    assert scores["main_score"] == scores["cosine_spearman"] and scores["hf_subset"] == "default"


@pytest.mark.filterwarnings("ignore:.*ill-defined:UserWarning")  # a 400-row test sample misses some labels
def test_banking77_through_mteb_with_subsampled_test(data_root):
    task = mteb.get_task("Banking77Classification")
    data = registry.load_local("Banking77Classification", "default", "test", data_root)
    keep = random.Random(0).sample(range(len(data.test_texts)), 400)  # speed; train stays whole (mteb samples it)
    small = ClassificationData(
        data.train_texts, data.train_labels, [data.test_texts[i] for i in keep], [data.test_labels[i] for i in keep]
    )
    task.n_experiments = 2
    mteb_dataset.attach_local_data(task, {"default": small}, "test")
    scores = task.evaluate(HashBowEncoder(), "test", encode_kwargs=ENCODE)["default"]
    assert len(scores["scores_per_experiment"]) == 2
    assert scores["accuracy"] > 0.2  # chance is 1/77 = 0.013


def test_scifact_through_mteb(data_root):
    task = mteb.get_task("SciFact")
    data = registry.load_local("SciFact", "default", "test", data_root)
    mteb_dataset.attach_local_data(task, {"default": data}, "test")
    scores = task.evaluate(HashBowEncoder(), "test", encode_kwargs=ENCODE)["default"]
    assert scores["ndcg_at_10"] > 0.3  # random ranking of 5,183 docs would give < 0.01


def test_tatoeba_and_bucc_layouts_evaluate(data_root):
    task = mteb.get_task("Tatoeba", hf_subsets=["deu-eng", "fra-eng"])
    data = {s: registry.load_local("Tatoeba", s, "test", data_root) for s in ("deu-eng", "fra-eng")}
    mteb_dataset.attach_local_data(task, data, "test")
    assert task.hf_subsets == ["deu-eng", "fra-eng"]
    scores = task.evaluate(HashBowEncoder(), "test", encode_kwargs=ENCODE)
    assert set(scores) == {"deu-eng", "fra-eng"} and all(0 < s["f1"] <= 1 for s in scores.values())

    bucc = mteb.get_task("BUCC", hf_subsets=["de-en"])
    english = ["the cat sleeps", "a red car", "bonus sentence", "we eat bread"]
    german = ["ich esse brot we eat bread", "noise only", "the cat sleeps katze"]
    bitext = BitextData(german, english, gold=[(0, 3), (2, 0)])
    mteb_dataset.attach_local_data(bucc, {"de-en": bitext}, "test")
    assert bucc.dataset["de-en"]["test"]["sentence1"] == [german[0], german[2]]
    scores = bucc.evaluate(HashBowEncoder(), "test", encode_kwargs=ENCODE)
    assert scores["de-en"]["f1"] == pytest.approx(1.0)


def test_attach_rejects_wrong_shapes_and_subsets():
    task = mteb.get_task("STS12")
    with pytest.raises(ConfigError, match="expected PairScoreData"):
        mteb_dataset.attach_local_data(task, {"default": BitextData(["a"], ["b"])}, "test")
    with pytest.raises(ConfigError, match="unknown hf_subset"):
        mteb_dataset.attach_local_data(task, {"en": PairScoreData(["a"], ["b"], [1.0])}, "test")
