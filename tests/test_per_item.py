"""Per-item scores whose mean is the task's main score, so `compare` can run paired tests on them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from evaluation.per_item import bitext_items, classification_items, sts_items


def test_classification_item_is_the_share_of_experiments_that_got_it_right():
    preds = [[0, 1, 2, 2], [0, 1, 1, 2]]  # two experiments
    gold = [0, 1, 2, 0]
    items = classification_items(preds, gold)
    assert [items[str(i)]["accuracy"] for i in range(4)] == [1.0, 1.0, 0.5, 0.0]
    # the mean over items is the mean accuracy over experiments, mteb's main score
    assert np.mean([v["accuracy"] for v in items.values()]) == pytest.approx((3 / 4 + 2 / 4) / 2)


def test_sts_items_average_to_spearman_without_ties():
    cosine, gold = [0.9, 0.1, 0.5, 0.3], [4.0, 1.0, 2.0, 3.0]
    items = sts_items(cosine, gold)
    # by hand: ranks(cos) = 4,1,3,2; ranks(gold) = 4,1,2,3; d = 0,0,1,-1; rho = 1 - 6*2/(4*15) = 0.8
    assert [round(items[str(i)]["cosine_spearman"], 6) for i in range(4)] == [1.0, 1.0, 0.6, 0.6]
    assert np.mean([v["cosine_spearman"] for v in items.values()]) == pytest.approx(0.8)
    assert spearmanr(cosine, gold).statistic == pytest.approx(0.8)
    assert [(items[str(i)]["cosine"], items[str(i)]["gold"]) for i in range(4)] == list(zip(cosine, gold, strict=True))


def test_bitext_item_is_one_when_the_nearest_neighbour_is_the_aligned_sentence():
    neighbours = [{"corpus_id": 0, "score": 0.9}, {"corpus_id": 0, "score": 0.8}, {"corpus_id": 2, "score": 0.7}]
    items = bitext_items(neighbours)
    assert [v["accuracy"] for v in items.values()] == [1.0, 0.0, 1.0]
    # what mteb's F1 is computed from, so that `compare` recomputes F1 (not accuracy) on resampled items
    assert [(v["predicted"], v["gold"]) for v in items.values()] == [(0, 0), (0, 1), (2, 2)]
