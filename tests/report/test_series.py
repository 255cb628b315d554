"""A checkpoint series: scores per task and checkpoint, the best checkpoint and its test against the next best.
Synthetic per-item files whose outcome is counted by hand, and one real case (published mE5 results)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import pytest
from report_synth import entry, write_meta, write_rows, write_task

from evaluation.report.collect import Collection
from evaluation.report.compare import resolve_runs
from evaluation.report.series import OVERALL, series
from evaluation.report.settings import CompareSettings

X = [0.1, 0.2, 0.3, 0.4, 0.5, 0.3, 0.2, 0.4]  # 8 queries' nDCG@10 at step 1000
SHIFT = {"step-1000": 0.0, "step-2000": 0.2, "step-3000": 0.1}
STS = {"step-1000": 0.70, "step-3000": 0.74}  # STS12 run by two checkpoints only, without per-item files


def _checkpoint(root: Path, step: str) -> Path:
    rev = root / step / "org__model" / "r"
    write_meta(rev, "org/model")
    values = [x + SHIFT[step] for x in X]
    write_task(rev, "SciFact", {"test": [entry("default", float(np.mean(values)), ndcg_at_10=float(np.mean(values)))]})
    write_rows(rev, "SciFact", "test", "default", [{"id": f"q{i}", "ndcg_at_10": v} for i, v in enumerate(values)])
    if step in STS:
        write_task(rev, "STS12", {"test": [entry("default", STS[step], cosine_spearman=STS[step])]})
    return root / step


def test_series_names_the_best_checkpoint_and_tests_it_against_the_next(tmp_path):
    args = [str(_checkpoint(tmp_path, step)) for step in SHIFT]
    res = series(resolve_runs(args, [], Collection()), CompareSettings(n_resamples=10_000))
    assert res.labels == list(SHIFT)  # same model name in each: labelled by folder, in the order given
    base = 100 * statistics.fmean(X)
    assert res.scores.loc["SciFact"].tolist() == pytest.approx([base, base + 20, base + 10])
    best = res.best.set_index("row")
    sci = best.loc["SciFact"]
    assert (sci["best"], sci["next"], sci["delta"]) == ("step-2000", "step-3000", pytest.approx(10.0))
    # every query +0.1 over the runner-up: of the 2^8 swap patterns only 2 reach |delta| = 10 points
    assert sci["p"] == pytest.approx(2 / 256) and sci["verdict"].startswith("significantly better")
    sts = best.loc["STS12"]
    assert (sts["best"], sts["next"]) == ("step-3000", "step-1000") and "not testable" in sts["verdict"]
    assert np.isnan(res.scores.loc["STS12", "step-2000"])
    assert res.scores.loc[OVERALL].tolist() == pytest.approx([base, base + 20, base + 10])  # SciFact only
    assert any("STS12: run by 2 of 3 checkpoints" in n for n in res.notes)
    assert res.summary.startswith(f"best checkpoint over the common tasks: step-2000 ({base + 20:.2f})")


def test_series_of_published_results(data_root):
    """Real files: the published mE5 small / base / large results as three 'checkpoints'."""
    ref = data_root / "reference" / "mteb-results"
    folders = [ref / f"intfloat__multilingual-e5-{size}" for size in ("small", "base", "large")]
    res = series(resolve_runs([str(f) for f in folders], [], Collection()), CompareSettings(n_resamples=200))
    by_hand = {}
    for f in folders:
        (path,) = f.glob("*/Tatoeba.json")
        entries = json.loads(path.read_text())["scores"]["test"]
        by_hand[f.name] = 100 * statistics.fmean(e["main_score"] for e in entries)
    row = res.scores.loc["Tatoeba"]
    assert row.tolist() == pytest.approx([by_hand[f.name] for f in folders])
    best = res.best.set_index("row").loc["Tatoeba"]
    assert max(by_hand, key=by_hand.get) == "intfloat__multilingual-e5-large"
    assert best["best"] == "intfloat/multilingual-e5-large"
    assert "not testable" in best["verdict"]  # published results carry no per-item files
    assert res.scores.loc["Tatoeba F1 (112)"].tolist() == pytest.approx(row.tolist())  # the suite average
