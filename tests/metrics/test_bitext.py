"""Bitext mining scores: mteb's weighted P/R/F1 + accuracy, and BUCC's pair F1, by hand."""

from __future__ import annotations

import pytest
from mteb.abstasks.text.bitext_mining import AbsTaskBitextMining

from evaluation.metrics.bitext import bucc_pair_scores, mteb_bitext_scores, scores_from_neighbours

# 4 source sentences; gold targets 0,1,2,3; nearest neighbours 0,0,2,5
LABELS = [0, 1, 2, 3]
PREDICTIONS = [0, 0, 2, 5]


def test_weighted_scores_by_hand():
    # per gold target (support 1 each): 0: P=1/2 (predicted twice), R=1, F1=2/3; 1: 0; 2: 1; 3: 0.
    # target 5 is only predicted: support 0, so weight 0.
    scores = mteb_bitext_scores(PREDICTIONS, LABELS)
    assert scores == pytest.approx(
        {
            "precision": (1 / 2 + 0 + 1 + 0) / 4,
            "recall": (1 + 0 + 1 + 0) / 4,
            "f1": (2 / 3 + 1) / 4,
            "accuracy": 2 / 4,
        },
        abs=1e-12,
    )


def test_equals_mteb_compute_metrics():
    neighbours = [{"corpus_id": j, "score": 0.9} for j in PREDICTIONS]
    gold = [(10, 0), (11, 1), (12, 2), (13, 3)]  # BUCC-style: positional, target = gold[i][1]
    ours = scores_from_neighbours(neighbours, gold)
    theirs = AbsTaskBitextMining._compute_metrics(None, neighbours, gold)  # mteb ignores self
    assert ours == pytest.approx(dict(theirs), abs=0)
    # Tatoeba-style: no gold means the identity alignment
    assert scores_from_neighbours(neighbours) == ours


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        mteb_bitext_scores([0, 1], [0])
    with pytest.raises(ValueError):
        scores_from_neighbours([{"corpus_id": 0, "score": 1.0}], [(0, 0), (1, 1)])


def test_bucc_pair_f1_by_hand():
    gold = {(1, 10), (2, 20), (3, 30), (4, 40)}
    mined = {(1, 10), (2, 20), (3, 31), (5, 50), (6, 60)}  # 2 hits of 5 mined, of 4 gold
    p, r = 2 / 5, 2 / 4
    assert bucc_pair_scores(mined, gold) == pytest.approx(
        {"precision": p, "recall": r, "f1": 2 * p * r / (p + r)}
    )
    assert bucc_pair_scores([], gold) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    with pytest.raises(ValueError):
        bucc_pair_scores(mined, [])


def test_one_prediction_per_gold_source_makes_pair_scores_equal_accuracy():
    gold = [(i, j) for i, j in enumerate(LABELS)]
    mined = list(enumerate(PREDICTIONS))
    pair = bucc_pair_scores(mined, gold)
    assert (
        pair["precision"]
        == pair["recall"]
        == pair["f1"]
        == mteb_bitext_scores(PREDICTIONS, LABELS)["accuracy"]
    )
