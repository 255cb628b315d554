"""BUCC 2018 original files -> BitextData with a gold alignment.

Files of one pair and split (``<xx>-en.training.*`` in the official ``bucc2018-<xx>-en.training-gold`` tarball):
``<xx>-en.<split>.<xx>`` and ``<xx>-en.<split>.en`` hold ``id<TAB>sentence`` lines, ``<xx>-en.<split>.gold`` holds
``xx_id<TAB>en_id`` lines. mteb's ``BUCC`` task ("train split" in its description, split name ``test``) is the
training data, for which gold exists. We return every sentence of both sides in file order and the gold as
0-based (index in sentence1, index in sentence2) pairs in gold-file order; mteb_dataset then applies mteb's own
BUCC transform (keep only the gold xx sentences as queries, search the whole English side).
"""

from __future__ import annotations

from pathlib import Path

from evaluation.data._files import read_lines, require_file
from evaluation.data.types import BitextData
from evaluation.errors import DataFileError


def bucc_files(directory: str | Path, pair: str, split: str = "training") -> tuple[Path, Path, Path]:
    """(xx file, en file, gold file) for ``pair`` like ``de-en``."""
    directory = Path(directory)
    xx = pair.split("-")[0]
    stem = f"{xx}-en.{split}"
    what = f"BUCC {pair} {split}"
    return (
        require_file(directory / f"{stem}.{xx}", what),
        require_file(directory / f"{stem}.en", what),
        require_file(directory / f"{stem}.gold", what),
    )


def _read_sentences(path: Path) -> tuple[list[str], dict[str, int]]:
    """Sentences in file order and id -> index; duplicate ids are an error."""
    sentences: list[str] = []
    index: dict[str, int] = {}
    for lineno, line in enumerate(read_lines(path), start=1):
        sid, sep, text = line.partition("\t")
        if not sep or not sid:
            raise DataFileError(path, lineno, f"expected 'id<TAB>sentence', got {line!r}")
        if sid in index:
            raise DataFileError(path, lineno, f"duplicate sentence id {sid!r}")
        index[sid] = len(sentences)
        sentences.append(text)
    return sentences, index


def _read_gold(path: Path, xx_index: dict[str, int], en_index: dict[str, int]) -> list[tuple[int, int]]:
    gold = []
    for lineno, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            raise DataFileError(path, lineno, f"expected 'xx_id<TAB>en_id', got {line!r}")
        xx_id, en_id = fields
        if xx_id not in xx_index:
            raise DataFileError(path, lineno, f"expected a sentence id of the non-English file, got unknown {xx_id!r}")
        if en_id not in en_index:
            raise DataFileError(path, lineno, f"expected a sentence id of the English file, got unknown {en_id!r}")
        gold.append((xx_index[xx_id], en_index[en_id]))
    return gold


def read_bucc(directory: str | Path, pair: str, split: str = "training") -> BitextData:
    xx_path, en_path, gold_path = bucc_files(directory, pair, split)
    xx, xx_index = _read_sentences(xx_path)
    en, en_index = _read_sentences(en_path)
    gold = _read_gold(gold_path, xx_index, en_index)
    if not gold:
        raise DataFileError(gold_path, None, "expected at least one gold pair, got an empty file")
    return BitextData(sentence1=xx, sentence2=en, gold=gold)
