"""Banking77 and Emotion: counts, mteb's label ids, file:line errors."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import mteb
import pytest

from evaluation.data import classification
from evaluation.errors import DataFileError, MissingDataError

STATS = Path(mteb.__file__).parent / "descriptive_stats" / "Classification"


def _label_counts(task: str, split: str) -> dict[int, int]:
    labels = json.loads((STATS / f"{task}.json").read_text())[split]["label_statistics"]["labels"]
    return {int(k): v["count"] for k, v in labels.items()}


def test_banking77_counts_texts_and_label_ids_equal_mteb(data_root):
    data = classification.read_banking77(data_root / "classification" / "banking77")
    assert (len(data.train_texts), len(data.test_texts)) == (10_003, 3_080)
    assert len(set(data.train_labels)) == len(set(data.test_labels)) == len(data.label_names) == 77
    assert set(collections.Counter(data.test_labels).values()) == {40}
    # per-label train counts identify every id: ours equal mteb's HF copy
    assert dict(collections.Counter(data.train_labels)) == _label_counts("Banking77Classification", "train")
    assert data.label_names[11] == "card_arrival" and "Refund_not_showing_up" in data.label_names
    assert sum(map(len, data.train_texts)) == 594_916  # quoted newlines kept inside texts, as in mteb's copy
    assert sum("\n" in t for t in data.train_texts + data.test_texts) == 13


def test_emotion_counts_and_label_ids_equal_mteb(data_root):
    folder = data_root / "classification" / "emotion"
    data = classification.read_emotion(folder)
    assert (len(data.train_texts), len(data.test_texts)) == (16_000, 2_000)
    assert data.label_names == ["sadness", "joy", "love", "anger", "fear", "surprise"]
    for split, labels in (("train", data.train_labels), ("test", data.test_labels)):
        assert dict(collections.Counter(labels)) == _label_counts("EmotionClassification", split)
    assert len(classification.read_emotion(folder, "validation").test_texts) == 2_000


def test_banking77_malformed_rows(tmp_path):
    (tmp_path / "categories.json").write_text('["b_intent", "A_intent"]')
    (tmp_path / "train.csv").write_text('text,category\n"multi\nline",b_intent\nok,A_intent\n')
    (tmp_path / "test.csv").write_text("text,category\nfine,A_intent\nextra,b_intent,x\n")
    with pytest.raises(DataFileError, match=r"test.csv:3: expected 2 fields"):
        classification.read_banking77(tmp_path)
    (tmp_path / "test.csv").write_text("text,category\nfine,unknown_intent\n")
    with pytest.raises(
        DataFileError, match=r"test.csv:2: expected an intent from categories.json, got 'unknown_intent'"
    ):
        classification.read_banking77(tmp_path)
    (tmp_path / "test.csv").write_text("text,category\nfine,b_intent\n")
    data = classification.read_banking77(tmp_path)
    assert data.label_names == ["A_intent", "b_intent"]  # case-insensitive alphabetical
    assert data.train_texts == ["multi\nline", "ok"] and data.train_labels == [1, 0]


def test_emotion_malformed_lines(tmp_path):
    for name in ("train.txt", "val.txt", "test.txt"):
        (tmp_path / name).write_text("text;label_name\ni feel fine;joy\n")
    (tmp_path / "test.txt").write_text("text;label_name\nok;joy\nno label here\n")
    with pytest.raises(DataFileError, match=r"test.txt:3: expected 'text;label_name'"):
        classification.read_emotion(tmp_path)
    (tmp_path / "test.txt").write_text("text;label_name\nok;happy\n")
    with pytest.raises(DataFileError, match=r"test.txt:2: expected a label in .*got 'happy'"):
        classification.read_emotion(tmp_path)
    (tmp_path / "train.txt").unlink()
    with pytest.raises(MissingDataError, match="train.txt"):
        classification.read_emotion(tmp_path)


def test_a_training_set_of_one_label_or_no_test_text_is_refused(tmp_path):
    """mteb's logistic regression needs 2 labels to learn and a test text to score (scikit-learn raises otherwise)."""
    (tmp_path / "train.txt").write_text("text;label_name\ni feel fine;joy\nsunny;joy\n")
    (tmp_path / "test.txt").write_text("text;label_name\nok;joy\n")
    with pytest.raises(DataFileError, match=r"train.txt: 2 training texts of 1 label\(s\): a classifier needs at "
                                            r"least 2 labels"):
        classification.read_emotion(tmp_path)
    (tmp_path / "train.txt").write_text("text;label_name\ni feel fine;joy\nrainy;sadness\n")
    (tmp_path / "test.txt").write_text("text;label_name\n\n")
    with pytest.raises(DataFileError, match=r"test.txt: no test texts after the header"):
        classification.read_emotion(tmp_path)
