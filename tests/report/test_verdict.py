"""Verdicts and counts as worked examples: which cell is OK / FAIL / PARTIAL / MISSING / NO_PAPER, the deltas, the
paper-vs-leaderboard marker, and a summary that counts what was run."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from evaluation.report.verdict import apply_verdicts, check_exit_code, counts, per_table_counts, summary_line, verdict

NAN = math.nan


def cells(*rows) -> pd.DataFrame:
    """(family, model, relation, counted, paper, leaderboard, ours, n, n_expected) per row; table7 unless published."""
    cols = ["family", "model", "relation", "counted", "paper", "leaderboard", "ours", "n", "n_expected"]
    df = pd.DataFrame(rows, columns=cols)
    df["table_id"] = df["family"].map({"paper": "table7", "published": "published"})
    return apply_verdicts(df, lambda table_id: 0.3)


@pytest.mark.parametrize("args,expected", [
    ((57.9, 58.2, 1, 1, 0.3), "OK"),  # |delta| = 0.3: on the boundary, inside
    ((57.9, 58.3, 1, 1, 0.3), "FAIL"),
    ((57.9, 55.0, 52, 56, 0.3), "PARTIAL"),  # a mean over 52 of 56 tasks is never compared
    ((57.9, NAN, 0, 1, 0.3), "MISSING"),
    ((NAN, 58.0, 1, 1, 0.3), "NO_PAPER"),
])
def test_verdict_table(args, expected):
    assert verdict(*args) == expected


def test_published_cells_compare_the_subsets_that_were_run():
    # 3 of 112 Tatoeba pairs run: both sides are means over the same 3 pairs, so they are compared
    assert verdict(68.1, 68.0, 3, 112, 0.3, compare_partial=True) == "OK"


def test_deltas_and_the_disagree_marker():
    c = cells(
        ("paper", "m", "reproduction", True, 64.2, 68.94, 68.90, 1, 1),  # mE5-small Tatoeba: paper != leaderboard
        ("paper", "m", "reproduction", True, 39.1, 39.09, 39.09, 1, 1),
        ("published", "x", "reproduction", True, NAN, 82.03, 82.03, 1, 1),
    )
    first = c.iloc[0]
    assert first["verdict"] == "FAIL" and first["delta"] == pytest.approx(68.90 - 64.2)
    assert first["delta_lb"] == pytest.approx(-0.04) and bool(first["disagree"])
    second = c.iloc[1]
    assert second["verdict"] == "OK" and not second["disagree"]
    third = c.iloc[2]  # published family: the reference is the leaderboard value
    assert (third["verdict"], third["delta"]) == ("OK", pytest.approx(0.0)) and pd.isna(third["delta_lb"])


def test_summary_of_a_small_run_reads_as_small():
    # the demo: 3 tasks of all-MiniLM-L6-v2 checked against its published results; 2 paper models not run
    c = cells(
        *[("published", "minilm", "reproduction", True, NAN, v, v, 1, 1) for v in (82.03, 64.51, 80.04)],
        *[("paper", "intfloat/multilingual-e5-small", "not run", False, 57.9, NAN, NAN, 0, 1)] * 5,
        ("paper", "intfloat/multilingual-e5-base", "not run", False, 59.5, NAN, NAN, 0, 1),
    )
    assert summary_line(c) == ("vs the paper: no paper model run | vs published mteb results: 3 of 3 cells run: "
                               "3 OK, 0 FAIL | 2 paper models without results here (not counted)")
    assert counts(c) == {"OK": 3, "FAIL": 0, "PARTIAL": 0, "MISSING": 0, "NO_PAPER": 0}  # not-run models left out


def test_summary_separates_partial_missing_and_variants():
    c = cells(
        ("paper", "m", "reproduction", True, 60.0, NAN, 60.1, 1, 1),  # OK
        ("paper", "m", "reproduction", True, 60.0, NAN, 61.0, 1, 1),  # FAIL
        ("paper", "m", "reproduction", True, 60.0, NAN, 50.0, 3, 112),  # PARTIAL
        ("paper", "m", "reproduction", True, 60.0, NAN, NAN, 0, 1),  # MISSING
        ("paper", "m", "reproduction", True, NAN, NAN, 70.0, 1, 1),  # NO_PAPER: not in "of N"
        ("paper", "v", "variant", False, 60.0, NAN, 65.0, 1, 1),  # FAIL, but a variant: not counted
    )
    assert summary_line(c) == ("vs the paper: 2 of 4 cells run: 1 OK, 1 FAIL; 1 partly run (mean over part of the "
                               "set, not compared); 1 not run | variants and derived checkpoints (shown, not "
                               "counted): 0 OK, 1 FAIL, 0 partly run")
    assert check_exit_code(c) == 1  # the counted FAIL
    assert check_exit_code(c.iloc[[0, 2, 3, 5]]) == 0  # a variant's FAIL and partial / missing cells never fail


def test_per_table_counts():
    c = cells(("paper", "m", "reproduction", True, 60.0, NAN, 60.1, 1, 1),
              ("paper", "m", "reproduction", True, 60.0, NAN, 50.0, 3, 112),
              ("paper", "z", "not run", False, 60.0, NAN, NAN, 0, 1),
              ("published", "m", "reproduction", True, NAN, 80.0, 79.0, 1, 1))
    t = per_table_counts(c).set_index(["table_id", "model"])
    assert t.loc[("table7", "m"), ["OK", "FAIL", "PARTIAL", "MISSING"]].tolist() == [1, 0, 1, 0]
    assert t.loc[("published", "m"), "FAIL"] == 1
    assert ("table7", "z") not in t.index  # a model without results has no row
    assert list(t.index.get_level_values(0)) == ["table7", "published"]  # the paper's tables first
