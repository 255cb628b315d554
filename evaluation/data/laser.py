"""Tatoeba v1 as released in LASER (facebookresearch/LASER:data/tatoeba/v1) -> BitextData.

Files: ``tatoeba.<xxx>-eng.<xxx>`` (language xxx) and ``tatoeba.<xxx>-eng.eng`` (English), line i <-> line i.
mteb's task ``Tatoeba`` names the subset ``<xxx>-eng`` and puts the xxx side in ``sentence1`` and the English
side in ``sentence2``; we return the same orientation.

mteb's HF copy (mteb/tatoeba-bitext-mining) keeps the line ending of every sentence: for all 112 subsets its
descriptive statistics (mteb/descriptive_stats/BitextMining/Tatoeba.json) are exactly one character longer per
sentence than the stripped lines, with identical counts, minima/maxima (+1) and unique texts. So by default we
keep that trailing ``"\\n"`` too, so that mteb sees the very same strings (``keep_newline=False`` strips it).
"""

from __future__ import annotations

import re
from pathlib import Path

from evaluation.data._files import read_lines, require_dir, require_file
from evaluation.data.types import BitextData
from evaluation.errors import DataFileError

_FILE_RE = re.compile(r"^tatoeba\.([a-z]{3})-eng\.\1$")


def tatoeba_languages(directory: str | Path) -> list[str]:
    """ISO 639-3 codes that have a ``tatoeba.<xxx>-eng.<xxx>`` file in ``directory``, sorted."""
    directory = require_dir(Path(directory), "Tatoeba (LASER tatoeba/v1 folder)")
    return sorted(m.group(1) for p in directory.iterdir() if (m := _FILE_RE.match(p.name)))


def tatoeba_files(directory: str | Path, lang: str) -> tuple[Path, Path]:
    """(non-English file, English file) for one language; missing files raise MissingDataError."""
    directory = Path(directory)
    what = f"Tatoeba {lang}-eng"
    return (
        require_file(directory / f"tatoeba.{lang}-eng.{lang}", what),
        require_file(directory / f"tatoeba.{lang}-eng.eng", what),
    )


def read_tatoeba(directory: str | Path, lang: str, keep_newline: bool = True) -> BitextData:
    """Load one language pair; ``lang`` is the ISO 639-3 code (``sqi``) or mteb's subset (``sqi-eng``)."""
    lang = lang.removesuffix("-eng")
    src_path, eng_path = tatoeba_files(directory, lang)
    src, eng = read_lines(src_path), read_lines(eng_path)
    if len(src) != len(eng):
        raise DataFileError(
            eng_path, None, f"expected {len(src)} lines (as in {src_path.name}, line-aligned), got {len(eng)}"
        )
    if not src:
        raise DataFileError(src_path, None, "empty: no sentence pair to score; point data.paths.Tatoeba at the LASER "
                                            "tatoeba/v1 folder")
    if keep_newline:
        src, eng = [s + "\n" for s in src], [s + "\n" for s in eng]
    return BitextData(sentence1=src, sentence2=eng, gold=None)


def count_tatoeba(directory: str | Path, lang: str) -> int:
    """Number of pairs (lines of the English file) without reading the other side."""
    _, eng_path = tatoeba_files(directory, lang.removesuffix("-eng"))
    return len(read_lines(eng_path))
