"""Banking77 (PolyAI CSV) and Emotion (dair-ai ``text;label_name``) -> ClassificationData.

Label ids reproduce mteb's HF copies (checked against mteb/descriptive_stats/Classification/*.json, whose
per-label counts identify every id):
- Banking77: id = position of the intent in the case-insensitive alphabetical order of the 77 names
  (``Refund_not_showing_up`` sorts among the r's), e.g. card_arrival = 11, card_linking = 13.
  The categories.json order is NOT it. mteb only needs consistent ints, but equal ids also keep
  scikit-learn's class order, hence its tie-breaks, identical.
- Emotion: sadness 0, joy 1, love 2, anger 3, fear 4, surprise 5.
Row order is file order, which matters: mteb draws its few-shot training samples by shuffling row indices
with a fixed seed (see evaluation.data.mteb_dataset).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from evaluation.data._files import read_lines, require_file
from evaluation.data.types import ClassificationData
from evaluation.errors import DataFileError
from evaluation.trec_io import open_text

EMOTION_LABELS = ("sadness", "joy", "love", "anger", "fear", "surprise")
EMOTION_FILES = {"train": "train.txt", "validation": "val.txt", "test": "test.txt"}
BANKING77_HEADER = ["text", "category"]


def banking77_labels(directory: Path) -> list[str]:
    """The 77 intents in mteb's id order (case-insensitive alphabetical)."""
    path = require_file(directory / "categories.json", "Banking77 categories.json")
    with open_text(path) as f:
        text = f.read()
    try:
        names = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataFileError(path, e.lineno, f"expected a JSON list of intent names ({e.msg})") from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DataFileError(path, None, "expected a JSON list of intent names")
    return sorted(names, key=str.lower)


def _read_banking77_csv(path: Path, label_ids: dict[str, int]) -> tuple[list[str], list[int]]:
    texts, labels = [], []
    with open_text(path) as f:  # newline="" (open_text's) so quoted newlines stay in the text
        reader = csv.reader(f)
        header = next(reader, None)
        if header != BANKING77_HEADER:
            raise DataFileError(path, 1, f"expected header 'text,category', got {header}")
        for row in reader:
            if not row:
                continue
            if len(row) != 2:  # reader.line_num = physical line where the record ends
                raise DataFileError(path, reader.line_num, f"expected 2 fields (text,category), got {len(row)}")
            if row[1] not in label_ids:
                raise DataFileError(path, reader.line_num, f"expected an intent from categories.json, got {row[1]!r}")
            texts.append(row[0])
            labels.append(label_ids[row[1]])
    return texts, labels


def check_trainable(data: ClassificationData, train_path: Path, test_path: Path) -> ClassificationData:
    """mteb fits a logistic regression on the training texts and scores the test texts: that needs two classes to
    learn and something to score (scikit-learn would stop with a traceback otherwise)."""
    if len(set(data.train_labels)) < 2:
        raise DataFileError(train_path, None, f"{len(data.train_labels)} training texts of "
                                              f"{len(set(data.train_labels))} label(s): a classifier needs at least 2 "
                                              f"labels; point the task at the full training file")
    if not data.test_texts:
        raise DataFileError(test_path, None, "no test texts after the header; point the task at the full test file")
    return data


def read_banking77(directory: str | Path, split: str = "test") -> ClassificationData:
    directory = Path(directory)
    names = banking77_labels(directory)
    ids = {name: i for i, name in enumerate(names)}
    train_path = require_file(directory / "train.csv", "Banking77 train.csv")
    test_path = require_file(directory / f"{split}.csv", f"Banking77 {split}.csv")
    train, test = _read_banking77_csv(train_path, ids), _read_banking77_csv(test_path, ids)
    return check_trainable(ClassificationData(train[0], train[1], test[0], test[1], label_names=names), train_path,
                           test_path)


def _read_emotion_file(path: Path) -> tuple[list[str], list[int]]:
    ids = {name: i for i, name in enumerate(EMOTION_LABELS)}
    lines = read_lines(path)
    if not lines or lines[0] != "text;label_name":
        raise DataFileError(path, 1, f"expected header 'text;label_name', got {lines[:1]}")
    texts, labels = [], []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        text, sep, label = line.rpartition(";")
        if not sep:
            raise DataFileError(path, lineno, f"expected 'text;label_name', got {line!r}")
        if label not in ids:
            raise DataFileError(path, lineno, f"expected a label in {list(EMOTION_LABELS)}, got {label!r}")
        texts.append(text)
        labels.append(ids[label])
    return texts, labels


def emotion_file(directory: Path, split: str) -> Path:
    if split not in EMOTION_FILES:
        raise DataFileError(directory, None, f"expected an Emotion split in {list(EMOTION_FILES)}, got {split!r}")
    return require_file(directory / EMOTION_FILES[split], f"Emotion {split} file")


def read_emotion(directory: str | Path, split: str = "test") -> ClassificationData:
    directory = Path(directory)
    train_path, test_path = emotion_file(directory, "train"), emotion_file(directory, split)
    train, test = _read_emotion_file(train_path), _read_emotion_file(test_path)
    return check_trainable(ClassificationData(train[0], train[1], test[0], test[1], label_names=list(EMOTION_LABELS)),
                           train_path, test_path)
