"""Bitext mining scores: mteb's BitextMining definition, and the BUCC shared task's pair F1.

mteb (``AbsTaskBitextMining._compute_metrics``, mteb 2.26.24): every source sentence i is matched
to its nearest target ``j_hat(i)`` (cosine, top 1); with ``labels[i]`` the gold target index,
``precision``/``recall``/``f1`` are scikit-learn's ``average="weighted"`` scores over the target
indices treated as class labels (``zero_division=0``) and ``accuracy`` = fraction with
``j_hat(i) == labels[i]``. Tatoeba: gold = identity (i, i). BUCC (v1 and v2): the sources are the
gold pairs' source sentences only, and ``gold[i] = (i_src, j_tgt)`` gives ``labels[i] = j_tgt``.
``mteb_bitext_scores`` reproduces that (tests check it equals mteb's own method).

The BUCC 2018 shared task itself scores a *set* of mined pairs against the gold pairs
(precision = |mined & gold| / |mined|, recall = |mined & gold| / |gold|): ``bucc_pair_scores``.
When every gold source gets exactly one prediction, as in mteb's BUCC, both equal accuracy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score


def mteb_bitext_scores(predictions: Sequence[int], labels: Sequence[int]) -> dict[str, float]:
    """mteb's BitextMining metrics: weighted precision/recall/F1 over target ids, and accuracy."""
    if len(predictions) != len(labels):
        raise ValueError(f"{len(predictions)} predictions for {len(labels)} gold labels")
    if not labels:
        raise ValueError("no sentence pairs to score")
    return {
        "precision": float(precision_score(labels, predictions, zero_division=0, average="weighted")),
        "recall": float(recall_score(labels, predictions, zero_division=0, average="weighted")),
        "f1": float(f1_score(labels, predictions, zero_division=0, average="weighted")),
        "accuracy": float(accuracy_score(labels, predictions)),
    }


def scores_from_neighbours(
    neighbours: Sequence[Mapping[str, float]], gold: Sequence[tuple[int, int]] | None = None
) -> dict[str, float]:
    """mteb's inputs: ``neighbours[i] = {"corpus_id": j, "score": s}``; gold defaults to (i, i)."""
    predictions = [int(n["corpus_id"]) for n in neighbours]
    if gold is None:
        gold = [(i, i) for i in range(len(neighbours))]
    if len(gold) != len(neighbours):
        raise ValueError(f"{len(neighbours)} neighbours for {len(gold)} gold pairs")
    return mteb_bitext_scores(predictions, [j for _, j in gold])


def bucc_pair_scores(mined: Iterable[tuple[int, int]], gold: Iterable[tuple[int, int]]) -> dict[str, float]:
    """BUCC 2018 shared-task precision / recall / F1 of a set of mined (source, target) pairs."""
    mined_set, gold_set = set(mined), set(gold)
    if not gold_set:
        raise ValueError("no gold pairs to score against")
    hits = len(mined_set & gold_set)
    precision = hits / len(mined_set) if mined_set else 0.0
    recall = hits / len(gold_set)
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}
