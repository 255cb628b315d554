"""STS test sets -> PairScoreData (gold kept as given: 0-5 for STS, 1-5 for SICK; mteb rescales linearly,
which changes neither Pearson nor Spearman).

Which text variant mteb's HF copies hold was checked against mteb's descriptive statistics
(mteb/descriptive_stats/STS/*.json: per-column total length, min/max length, unique texts, unique pairs):

- STSBenchmark, SICK-R: the ORIGINAL releases (``stsbenchmark/sts-test.csv``; ``SICK_{train,trial,
  test_annotated}.txt``) match exactly.
- STS12-STS16: mteb's copies are SentEval's lower-cased, PTB-tokenised text (the top-level
  ``STS.input.*.txt`` files), NOT the organisers' original casing: unique texts and unique pairs equal the
  top-level files in every year (e.g. STS12: 2236 / 2797 / 2902; the originals give 2237 / 2812 / 2917).
  The one systematic difference is that this SentEval dump splits clitics (``it ' s``) where mteb's copy keeps
  PTB's ``it 's``; re-joining them (``rejoin_clitics``) brings every max length to mteb's exactly and the total
  length to within 0.01 % (residual 0-16 characters per column). The organiser releases in the sub-folders
  (``test-gold/`` etc.) load with the same function (``rejoin_clitics=False``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from evaluation.data._files import read_lines, require_dir, require_file
from evaluation.data.types import PairScoreData
from evaluation.errors import DataFileError, MissingDataError

_CLITIC = re.compile(r" ' (s|t|m|re|ve|ll|d)\b")
SICK_FILES = ("SICK_train.txt", "SICK_trial.txt", "SICK_test_annotated.txt")
SICK_HEADER = ("pair_ID", "sentence_A", "sentence_B", "relatedness_score")


def rejoin_clitics(text: str) -> str:
    """``it ' s`` -> ``it 's`` (PTB clitic tokens, as in mteb's copies of STS12-16)."""
    return _CLITIC.sub(r" '\1", text)


def _score(path: Path, lineno: int, value: str) -> float:
    try:
        score = float(value)
    except ValueError:
        raise DataFileError(path, lineno, f"expected a numeric gold score, got {value!r}") from None
    if not math.isfinite(score):  # one NaN makes Spearman NaN; one inf makes Pearson NaN
        raise DataFileError(path, lineno, f"expected a finite gold score, got {value!r}; fix or drop that pair")
    return score


def check_correlation_defined(data: PairScoreData, path: Path) -> PairScoreData:
    """Spearman and Pearson need at least 2 pairs whose gold scores differ; otherwise mteb would store NaN."""
    n = len(data.scores)
    if n < 2:
        raise DataFileError(path, None, f"{n} scored pair{'' if n == 1 else 's'}: Spearman needs at least 2; point "
                                        f"the task at the full test set")
    if min(data.scores) == max(data.scores):
        raise DataFileError(path, None, f"every gold score is {data.scores[0]}: the correlation is undefined; point "
                                        f"the task at the test set with its gold scores")
    return data


def sts_input_files(directory: Path) -> list[tuple[Path, Path]]:
    """(input, gold) file pairs of one STS year, sorted by name (``STS.input.X.txt`` / ``STS2016.input.X.txt``).

    Gold files without an input are skipped on purpose: STS13's SMT input is withheld by its licence (LDC),
    and mteb's STS13 has no SMT pairs either.
    """
    directory = require_dir(directory, f"STS folder {directory.name}")
    inputs = sorted(p for p in directory.glob("STS*.input.*.txt") if p.is_file())
    if not inputs:
        raise MissingDataError(f"STS input files (STS*.input.*.txt) in {directory}", [directory / "STS.input.*.txt"])
    pairs = []
    for inp in inputs:
        gold = inp.with_name(inp.name.replace(".input.", ".gs.", 1))
        pairs.append((inp, require_file(gold, f"gold scores for {inp.name}")))
    return pairs


def read_sts_pair_files(input_path: Path, gold_path: Path, data: PairScoreData, rejoin: bool = False) -> None:
    """Append the scored pairs of one set to ``data``; an empty gold line = unscored pair, skipped (as mteb)."""
    inputs, golds = read_lines(input_path), read_lines(gold_path)
    if len(inputs) != len(golds):
        raise DataFileError(
            gold_path, None, f"expected {len(inputs)} lines (one per pair in {input_path.name}), got {len(golds)}"
        )
    for lineno, (line, gold) in enumerate(zip(inputs, golds, strict=True), start=1):
        if not gold.strip():
            continue
        fields = line.split("\t")  # 2 columns, or 4 in the STS2016 originals (+ sources)
        if len(fields) < 2:
            raise DataFileError(input_path, lineno, f"expected 'sentence1<TAB>sentence2', got {line!r}")
        s1, s2 = (rejoin_clitics(fields[0]), rejoin_clitics(fields[1])) if rejoin else (fields[0], fields[1])
        data.sentence1.append(s1)
        data.sentence2.append(s2)
        data.scores.append(_score(gold_path, lineno, gold.strip()))


def read_sts_year(directory: str | Path, rejoin: bool = False) -> PairScoreData:
    """All scored pairs of one STS12-16 test folder, sets in file-name order."""
    data = PairScoreData([], [], [])
    for inp, gold in sts_input_files(Path(directory)):
        read_sts_pair_files(inp, gold, data, rejoin=rejoin)
    return check_correlation_defined(data, Path(directory))


def count_sts_year(directory: str | Path) -> int:
    return sum(sum(1 for g in read_lines(gold) if g.strip()) for _, gold in sts_input_files(Path(directory)))


def read_stsbenchmark(path: str | Path) -> PairScoreData:
    """STS-B csv (tab-separated despite the name; quotes are literal): genre, file, year, id, score, s1, s2[, ...]."""
    path = require_file(Path(path), "STSBenchmark test file")
    data = PairScoreData([], [], [])
    for lineno, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 7:
            raise DataFileError(
                path, lineno, f"expected >= 7 tab-separated fields (genre ... score s1 s2), got {len(fields)}"
            )
        data.scores.append(_score(path, lineno, fields[4]))
        data.sentence1.append(fields[5])
        data.sentence2.append(fields[6])
    return check_correlation_defined(data, path)


def read_sick(directory: str | Path, files: tuple[str, ...] = SICK_FILES) -> PairScoreData:
    """SICK relatedness: mteb's SICK-R test set is all three files (9,927 pairs)."""
    directory = require_dir(Path(directory), "SICK folder (sick2014)")
    data = PairScoreData([], [], [])
    for name in files:
        path = require_file(directory / name, f"SICK file {name}")
        lines = read_lines(path)
        header = tuple(lines[0].split("\t")) if lines else ()
        if header[:4] != SICK_HEADER:
            raise DataFileError(path, 1, f"expected header starting {'<TAB>'.join(SICK_HEADER)}, got {lines[:1]}")
        for lineno, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < 4:
                raise DataFileError(path, lineno, f"expected >= 4 tab-separated fields, got {len(fields)}")
            data.sentence1.append(fields[1])
            data.sentence2.append(fields[2])
            data.scores.append(_score(path, lineno, fields[3]))
    return check_correlation_defined(data, directory)
