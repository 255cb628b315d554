"""`evaluation.evaluate`: an in-memory model (a SentenceTransformer, or any mteb-protocol object) gets the result
files `me5-eval run` writes, with scores checked against the published value and an independent computation."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

import evaluation
from evaluation.errors import ConfigError

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_REVISION = "8b3219a92973c328a8e22fadcfa821b5dc75636a"
DIM = 256


def hashed_bag_of_words(text: str) -> np.ndarray:
    """A model without weights: each lower-cased word adds 1 at a crc32-chosen coordinate."""
    v = np.zeros(DIM, np.float32)
    for word in text.lower().split():
        v[zlib.crc32(word.encode()) % DIM] += 1.0
    return v


class BagOfWords:
    """The core of mteb 2.x's EncoderProtocol: encode(DataLoader, *, task_metadata, hf_split, hf_subset,
    prompt_type), no mteb_model_meta or similarity (cosine is the default); it records what it was asked for."""

    def __init__(self):
        self.calls: list[tuple[str, str | None]] = []

    def encode(self, inputs, *, task_metadata, hf_split, hf_subset, prompt_type=None, **kwargs):
        self.calls.append((task_metadata.name, getattr(prompt_type, "value", prompt_type)))
        return np.stack([hashed_bag_of_words(t) for batch in inputs for t in batch["text"]])


def test_an_object_without_encode_is_refused():
    with pytest.raises(ConfigError, match="encoder protocol"):
        evaluation.evaluate(object(), tasks="SciFact", name="x/y")


def test_a_nameless_model_asks_for_a_name():
    with pytest.raises(ConfigError, match=r"name='org/model'"):
        evaluation.evaluate(BagOfWords(), tasks="SciFact")


@pytest.mark.slow
def test_custom_protocol_object_on_mini_scifact(mini_scifact, tmp_path):
    """nDCG@10 equals pytrec_eval on the same vectors ranked by cosine here (an independent ranking)."""
    import pytrec_eval

    from evaluation.data.beir import read_beir
    from evaluation.models.prompts import mteb_join_title_text

    model = BagOfWords()
    [result] = evaluation.evaluate(model, suite="mteb-en", tasks="SciFact", name="me/bag-of-words",
                                   output_dir=tmp_path / "out", overrides=["data.root=null",
                                                                           f"data.paths.SciFact={mini_scifact}"])
    assert {("SciFact", "query"), ("SciFact", "document")} <= set(model.calls)
    data = read_beir(mini_scifact)
    docs = np.stack([hashed_bag_of_words(mteb_join_title_text(t, x))
                     for t, x in zip(data.corpus.titles, data.corpus.texts, strict=True)])
    docs /= np.maximum(np.linalg.norm(docs, axis=1, keepdims=True), 1e-12)
    run = {}
    for qid, text in data.queries.items():
        q = hashed_bag_of_words(text)
        scores = docs @ (q / max(np.linalg.norm(q), 1e-12))
        top = np.argsort(-scores, kind="stable")[:100]
        run[qid] = {data.corpus.ids[i]: float(scores[i]) for i in top}
    per_query = pytrec_eval.RelevanceEvaluator(data.qrels, {"ndcg_cut.10"}).evaluate(run)
    expected = np.mean([per_query[q]["ndcg_cut_10"] for q in data.qrels])
    assert result.scores["test"][0]["ndcg_at_10"] == pytest.approx(expected, abs=1e-4)
    written = json.loads((tmp_path / "out" / "me__bag-of-words" / "no_revision_available" / "SciFact.json")
                         .read_text())
    assert written["me5_eval"]["model"] == "me/bag-of-words"


@pytest.mark.slow
def test_sentence_transformer_instance_on_stsbenchmark(minilm_dir, data_root, tmp_path):
    """all-MiniLM-L6-v2 in memory scores the published STSBenchmark 82.03 (reference JSON) within 0.1, filed
    under the name and revision given, with our provenance."""
    from sentence_transformers import SentenceTransformer

    published = json.loads((data_root / "reference" / "mteb-results" / MINILM.replace("/", "__") / MINILM_REVISION
                            / "STSBenchmark.json").read_text())["scores"]["test"][0]["main_score"]
    model = SentenceTransformer(str(minilm_dir), device="cpu")
    [result] = evaluation.evaluate(model, tasks=["STSBenchmark"], name=MINILM, revision=MINILM_REVISION,
                                   data_root=data_root, output_dir=tmp_path / "out")
    assert 100 * result.scores["test"][0]["main_score"] == pytest.approx(100 * published, abs=0.1)
    path = tmp_path / "out" / MINILM.replace("/", "__") / MINILM_REVISION / "STSBenchmark.json"
    written = json.loads(path.read_text())
    assert written["me5_eval"]["revision"] == MINILM_REVISION
    assert (path.parent / "model_meta.json").is_file()


@pytest.mark.slow
def test_custom_protocol_object_on_stsbenchmark(data_root, tmp_path):
    """A non-retrieval task goes to mteb's evaluator with the object: Spearman of the cosine of its vectors,
    computed here with scipy."""
    from scipy.stats import spearmanr

    from evaluation.data.sts import read_stsbenchmark

    model = BagOfWords()
    [result] = evaluation.evaluate(model, tasks="STSBenchmark", name="me/bag-of-words", data_root=data_root,
                                   output_dir=tmp_path / "out")
    data = read_stsbenchmark(data_root / "sts" / "senteval" / "STSBenchmark" / "stsbenchmark" / "sts-test.csv")
    a = np.stack([hashed_bag_of_words(t) for t in data.sentence1])
    b = np.stack([hashed_bag_of_words(t) for t in data.sentence2])
    cosine = (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
    assert result.scores["test"][0]["main_score"] == pytest.approx(spearmanr(cosine, data.scores).statistic, abs=1e-4)
    assert ("STSBenchmark", None) in model.calls
