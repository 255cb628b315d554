"""Tatoeba v1 (LASER files) loaded the way mteb's Tatoeba task holds it."""

from __future__ import annotations

import json
from pathlib import Path

import mteb
import pytest

from evaluation.data import laser
from evaluation.errors import DataFileError, MissingDataError

# languages with fewer than 1,000 pairs (shared/data/README.md)
SHORT = {"amh": 168, "ang": 134, "arq": 911, "arz": 477, "ast": 127, "awa": 231, "bos": 354, "ceb": 600, "cha": 137,
         "csb": 253, "cym": 575, "dsb": 479, "fao": 262, "fry": 173, "gla": 829, "gsw": 117, "hsb": 483, "hye": 742,
         "jav": 205, "kat": 746, "kaz": 575, "khm": 722, "kur": 410, "mal": 687, "max": 284, "mon": 440, "nov": 257,
         "orv": 835, "pms": 525, "slv": 823, "swg": 112, "swh": 390, "tam": 307, "tel": 234, "tha": 548, "tuk": 203,
         "tzl": 104, "uzb": 428, "xho": 142, "yid": 848}  # fmt: skip


@pytest.fixture(scope="module")
def tatoeba(data_root) -> dict[str, object]:
    folder = data_root / "tatoeba" / "v1"
    return {lang: laser.read_tatoeba(folder, lang) for lang in laser.tatoeba_languages(folder)}


def test_112_languages_88877_pairs_matching_mteb_subsets(tatoeba):
    assert len(tatoeba) == 112
    assert sum(len(d.sentence1) for d in tatoeba.values()) == 88_877
    assert {f"{lang}-eng" for lang in tatoeba} == set(mteb.get_task("Tatoeba").metadata.hf_subsets)
    for lang, data in tatoeba.items():
        assert len(data.sentence1) == len(data.sentence2) == SHORT.get(lang, 1000), lang


def test_texts_equal_mteb_hf_copy_statistics(tatoeba):
    """sentence1 = the xxx side, sentence2 = English, each with its line ending, as mteb's HF copy."""
    stats_file = Path(mteb.__file__).parent / "descriptive_stats" / "BitextMining" / "Tatoeba.json"
    stats = json.loads(stats_file.read_text())["test"]["hf_subset_descriptive_stats"]
    for lang, data in tatoeba.items():
        s = stats[f"{lang}-eng"]
        for column, texts in (("sentence1", data.sentence1), ("sentence2", data.sentence2)):
            assert s[f"{column}_statistics"]["total_text_length"] == sum(map(len, texts)), (lang, column)
            assert s[f"{column}_statistics"]["unique_texts"] == len(set(texts)), (lang, column)


def test_first_pair_and_strip_option(data_root):
    stripped = laser.read_tatoeba(data_root / "tatoeba" / "v1", "sqi-eng", keep_newline=False)
    assert not stripped.sentence1[0].endswith("\n") and stripped.gold is None
    assert stripped.sentence1[0] + "\n" == laser.read_tatoeba(data_root / "tatoeba" / "v1", "sqi").sentence1[0]


def test_mismatched_line_counts_and_missing_files(tmp_path):
    (tmp_path / "tatoeba.xyz-eng.xyz").write_text("a\nb\n")
    (tmp_path / "tatoeba.xyz-eng.eng").write_text("A\n")
    with pytest.raises(DataFileError, match=r"tatoeba.xyz-eng.eng: expected 2 lines .* got 1"):
        laser.read_tatoeba(tmp_path, "xyz")
    with pytest.raises(MissingDataError, match="tatoeba.abc-eng.abc"):
        laser.read_tatoeba(tmp_path, "abc-eng")
