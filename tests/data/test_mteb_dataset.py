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
import pytrec_eval
from mteb.types import PromptType
from scipy.stats import spearmanr
from sklearn.metrics import f1_score
from sklearn.metrics.pairwise import paired_cosine_distances

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
        return self.vectors([text for batch in inputs for text in batch["text"]])

    @staticmethod
    def vectors(texts: list[str]) -> np.ndarray:
        """The same vectors outside mteb: what the tests' independent expectations are computed from."""
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
    # computed here without mteb: Spearman of the gold scores with the cosines of the same vectors (misaligned
    # pairs or gold scores would give another value, ~0); bag-of-words cosines tie often, so they are computed as
    # mteb's STS evaluator does (sklearn, float32), where rounding orders the ties
    a, b = HashBowEncoder.vectors(data.sentence1), HashBowEncoder.vectors(data.sentence2)
    cosines = 1 - paired_cosine_distances(a, b)
    assert scores["cosine_spearman"] == pytest.approx(spearmanr(data.scores, cosines).statistic, abs=1e-6)
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
    # computed here without mteb: pytrec_eval's nDCG@10 of the exact top-10 of the same vectors (mteb's title+text
    # join: "title text"), over the judged queries
    ids = data.corpus.ids
    docs = HashBowEncoder.vectors([f"{t} {x}".strip() for t, x in zip(data.corpus.titles, data.corpus.texts,
                                                                       strict=True)])
    qids = [q for q in data.queries if q in data.qrels]
    sims = HashBowEncoder.vectors([data.queries[q] for q in qids]) @ docs.T
    top = np.argsort(-sims, axis=1, kind="stable")[:, :10]
    run = {q: {ids[j]: float(sims[i, j]) for j in top[i]} for i, q in enumerate(qids)}
    per_query = pytrec_eval.RelevanceEvaluator(data.qrels, {"ndcg_cut.10"}).evaluate(run)
    by_hand = float(np.mean([per_query[q]["ndcg_cut_10"] for q in qids]))
    assert scores["ndcg_at_10"] == pytest.approx(by_hand, abs=2e-3)  # ties of zero-overlap documents may order apart


def test_tatoeba_and_bucc_layouts_evaluate(data_root):
    task = mteb.get_task("Tatoeba", hf_subsets=["deu-eng", "fra-eng"])
    data = {s: registry.load_local("Tatoeba", s, "test", data_root) for s in ("deu-eng", "fra-eng")}
    mteb_dataset.attach_local_data(task, data, "test")
    assert task.hf_subsets == ["deu-eng", "fra-eng"]
    scores = task.evaluate(HashBowEncoder(), "test", encode_kwargs=ENCODE)
    assert set(scores) == {"deu-eng", "fra-eng"}
    for subset, d in data.items():  # computed here without mteb: nearest English line by cosine, gold = same line
        nearest = np.argmax(HashBowEncoder.vectors(d.sentence1) @ HashBowEncoder.vectors(d.sentence2).T, axis=1)
        gold = list(range(len(d.sentence1)))
        assert scores[subset]["f1"] == pytest.approx(f1_score(gold, nearest, average="weighted", zero_division=0),
                                                     abs=1e-3), subset  # mteb's metric: weighted F1 (sklearn)

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
