"""BUCC 2018 files (no real copy available: small fixtures in the official format)."""

from __future__ import annotations

import pytest

from evaluation.data import bucc
from evaluation.errors import DataFileError, MissingDataError


def _write(folder, xx="de-000000001\tDer Hund\nde-000000002\tDie Katze\n",
           en="en-000000001\tThe cat\nen-000000002\tA house\nen-000000003\tThe dog\n",
           gold="de-000000001\ten-000000003\nde-000000002\ten-000000001\n"):  # fmt: skip
    (folder / "de-en.training.de").write_text(xx)
    (folder / "de-en.training.en").write_text(en)
    (folder / "de-en.training.gold").write_text(gold)
    return folder


def test_gold_becomes_index_pairs(tmp_path):
    data = bucc.read_bucc(_write(tmp_path), "de-en")
    assert data.sentence1 == ["Der Hund", "Die Katze"]
    assert data.sentence2 == ["The cat", "A house", "The dog"]
    assert data.gold == [(0, 2), (1, 0)]


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"gold": "de-000000001\ten-000000009\n"}, r"de-en.training.gold:1: .*got unknown 'en-000000009'"),
        ({"gold": "de-000000001\ten-000000001\nde-000000005\ten-000000001\n"}, r"gold:2: .*got unknown 'de-000000005'"),
        ({"gold": "de-000000001 en-000000001\n"}, r"gold:1: expected 'xx_id<TAB>en_id'"),
        ({"en": "en-1\tA\nen-1\tB\n", "gold": "de-000000001\ten-1\n"}, r"training.en:2: duplicate sentence id 'en-1'"),
        ({"xx": "no tab\n"}, r"training.de:1: expected 'id<TAB>sentence'"),
    ],
)
def test_malformed_files(tmp_path, files, problem):
    with pytest.raises(DataFileError, match=problem):
        bucc.read_bucc(_write(tmp_path, **files), "de-en")


def test_missing_files(tmp_path):
    with pytest.raises(MissingDataError, match="fr-en.training.fr"):
        bucc.read_bucc(tmp_path, "fr-en")
