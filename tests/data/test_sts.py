"""STS12-16, STSBenchmark and SICK-R: counts, equality with mteb's HF copies, malformed files."""

from __future__ import annotations

import json
from pathlib import Path

import mteb
import pytest

from evaluation.data import sts
from evaluation.errors import DataFileError, MissingDataError

STATS = Path(mteb.__file__).parent / "descriptive_stats" / "STS"
YEARS = {"STS12": 3108, "STS13": 1500, "STS14": 3750, "STS15": 3000, "STS16": 1186}
ORIGINAL = {"STS12": "test-gold", "STS13": "test-gs", "STS14": "sts-en-test-gs-2014",
            "STS15": "test_evaluation_task2a", "STS16": "sts2016-english-with-gs-v1.0"}  # fmt: skip


def _mteb_stats(task: str) -> dict:
    return json.loads((STATS / f"{task}.json").read_text())["test"]


def _unique(data: sts.PairScoreData) -> tuple[int, int, int]:
    pairs = set(zip(data.sentence1, data.sentence2, strict=True))
    return len(set(data.sentence1)), len(set(data.sentence2)), len(pairs)


@pytest.mark.parametrize("task", YEARS)
def test_sts_year_counts_and_mteb_text_variant(data_root, task):
    folder = data_root / "sts" / "senteval" / f"{task}-en-test"
    data = sts.read_sts_year(folder, rejoin=True)
    stats = _mteb_stats(task)
    assert len(data.scores) == YEARS[task] == stats["num_samples"] == sts.count_sts_year(folder)
    # mteb holds SentEval's lower-cased tokenised text: unique texts/pairs and max lengths are identical ...
    t1, t2 = stats["text1_statistics"], stats["text2_statistics"]
    assert _unique(data) == (t1["unique_texts"], t2["unique_texts"], stats["unique_pairs"])
    assert (max(map(len, data.sentence1)), max(map(len, data.sentence2))) == (
        t1["max_text_length"],
        t2["max_text_length"],
    )
    # ... and total lengths agree to 0.01 % (a few tokenisation details remain)
    assert sum(map(len, data.sentence1)) == pytest.approx(t1["total_text_length"], rel=1e-4)
    assert sum(data.scores) / len(data.scores) == pytest.approx(stats["label_statistics"]["avg_score"], abs=1e-9)


@pytest.mark.parametrize("task", YEARS)
def test_organiser_originals_load_with_same_pairs(data_root, task):
    top = data_root / "sts" / "senteval" / f"{task}-en-test"
    original, senteval = sts.read_sts_year(top / ORIGINAL[task]), sts.read_sts_year(top)
    assert len(original.scores) == YEARS[task]
    assert original.scores == senteval.scores
    assert any(s != s.lower() for s in original.sentence1)  # original casing ...
    assert all(s == s.lower() for s in senteval.sentence1)  # ... SentEval's (= mteb's) is lower-cased


def test_sts13_has_no_smt(data_root):
    folder = data_root / "sts" / "senteval" / "STS13-en-test"
    assert [i.name for i, _ in sts.sts_input_files(folder)] == [
        "STS.input.FNWN.txt", "STS.input.OnWN.txt", "STS.input.headlines.txt"]  # fmt: skip


def test_stsbenchmark_and_sick_equal_mteb(data_root):
    stsb = sts.read_stsbenchmark(data_root / "sts/senteval/STSBenchmark/stsbenchmark/sts-test.csv")
    sick = sts.read_sick(data_root / "sts/dataset-sts/sick2014")
    for task, data in (("STSBenchmark", stsb), ("SICK-R", sick)):
        stats = _mteb_stats(task)
        assert len(data.scores) == stats["num_samples"]
        assert sum(map(len, data.sentence1)) == stats["text1_statistics"]["total_text_length"]
        assert sum(map(len, data.sentence2)) == stats["text2_statistics"]["total_text_length"]
        assert _unique(data)[2] == stats["unique_pairs"]
    assert len(stsb.scores) == 1379 and len(sick.scores) == 9927
    assert min(sick.scores) == 1.0 and max(stsb.scores) == 5.0  # gold kept as given


def test_rejoin_clitics():
    assert sts.rejoin_clitics("it ' s the nation ' s , don ' t") == "it 's the nation 's , don 't"
    assert sts.rejoin_clitics("employees ' retirement") == "employees ' retirement"


def test_malformed_sts_files(tmp_path):
    (tmp_path / "STS.input.x.txt").write_text("a\tb\nc\td\nno tab\n")
    (tmp_path / "STS.gs.x.txt").write_text("1.0\n\n2\n")
    with pytest.raises(DataFileError, match=r"STS.input.x.txt:3: expected 'sentence1<TAB>sentence2'"):
        sts.read_sts_year(tmp_path)
    (tmp_path / "STS.input.x.txt").write_text("a\tb\nc\td\ne\tf\n")
    assert sts.read_sts_year(tmp_path).scores == [1.0, 2.0]  # empty gold line = unscored pair, skipped
    (tmp_path / "STS.gs.x.txt").write_text("1.0\nfive\n2\n")
    with pytest.raises(DataFileError, match=r"STS.gs.x.txt:2: expected a numeric gold score, got 'five'"):
        sts.read_sts_year(tmp_path)
    (tmp_path / "STS.gs.x.txt").write_text("1.0\n")
    with pytest.raises(DataFileError, match=r"STS.gs.x.txt: expected 3 lines"):
        sts.read_sts_year(tmp_path)
    (tmp_path / "STS.gs.x.txt").unlink()
    with pytest.raises(MissingDataError, match="STS.gs.x.txt"):
        sts.read_sts_year(tmp_path)


def test_malformed_stsbenchmark_and_sick(tmp_path):
    csv = tmp_path / "sts-test.csv"
    csv.write_text('g\tf\t2012\t1\t2.5\t"quoted\tok\ng\tf\t2012\t2\t3.0\tonly six\n')
    with pytest.raises(DataFileError, match=r"sts-test.csv:2: expected >= 7"):
        sts.read_stsbenchmark(csv)
    for name in sts.SICK_FILES:
        (tmp_path / name).write_text(
            "pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment\n1\ta\tb\t4.5\tNEUTRAL\n"
            f"2\tc\td\t{len(name) / 10}\tNEUTRAL\n"
        )
    assert sts.read_sick(tmp_path).scores == [4.5, 1.4, 4.5, 1.4, 4.5, 2.3]
    (tmp_path / sts.SICK_FILES[1]).write_text("id\ta\tb\n")
    with pytest.raises(DataFileError, match=r"SICK_trial.txt:1: expected header"):
        sts.read_sick(tmp_path)


def test_gold_scores_that_make_the_correlation_undefined(tmp_path):
    """NaN/inf in the gold, fewer than 2 pairs, or one constant gold score: mteb would store NaN as the score."""
    (tmp_path / "STS.input.x.txt").write_text("a\tb\nc\td\ne\tf\n")
    for gold, problem in (("1.0\nnan\n2\n", r"STS.gs.x.txt:2: expected a finite gold score, got 'nan'"),
                          ("inf\n1\n2\n", r"STS.gs.x.txt:1: expected a finite gold score, got 'inf'"),
                          ("\n\n2\n", r"1 scored pair: Spearman needs at least 2"),
                          ("\n\n\n", r"0 scored pairs: Spearman needs at least 2"),
                          ("3\n\n3.0\n", r"every gold score is 3.0: the correlation is undefined")):
        (tmp_path / "STS.gs.x.txt").write_text(gold)
        with pytest.raises(DataFileError, match=problem):
            sts.read_sts_year(tmp_path)
    (tmp_path / "STS.gs.x.txt").write_text("3\n\n2.5\n")
    assert sts.read_sts_year(tmp_path).scores == [3.0, 2.5]
