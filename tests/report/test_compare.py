"""compare(): runs found by folder or name, tests on the metric each task reports, subsets that disagree with
their task, and the items that differ most shown with their text."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from report_synth import E5_SMALL, _items, entry, write_meta, write_rows, write_task
from sklearn.metrics import accuracy_score, f1_score

from evaluation.errors import ConfigError, DataError
from evaluation.report.collect import Collection
from evaluation.report.compare import compare_runs, resolve_runs
from evaluation.report.settings import CompareSettings

FAST = CompareSettings(n_resamples=2000, seed=0, top_items=5)
STS_TEST = "sts/senteval/STSBenchmark/stsbenchmark/sts-test.csv"


def two(root: Path, a: str, b: str) -> tuple:
    return tuple(resolve_runs([a, b], [root], Collection()))


def test_compare_finds_the_better_checkpoint(synthetic_results):
    res = compare_runs(*two(synthetic_results, E5_SMALL, "my-org/e5-small-ft"), FAST)
    t = res.tasks.set_index("task")
    miracl = t.loc["MIRACLRetrieval"]
    assert miracl["verdict"] == "B better" and miracl["p_holm"] < 0.01 and miracl["statistic"] == "mean"
    # by hand from the synthetic per-query scores: +0.10 each, clipped at 1.0; the task score is the mean over ar, bn
    a = {"ar": _items(1, 60, 0.714), "bn": _items(2, 40, 0.700)}
    by_hand = 100 * np.mean([np.mean([min(1.0, v + 0.10) - v for v in items.values()]) for items in a.values()])
    assert miracl["delta"] == pytest.approx(by_hand, abs=1e-9) and by_hand < 10.0  # < 10: some scores were clipped
    assert miracl["wins"] == 100 and miracl["n_items"] == 100
    sub = res.subsets.set_index("subset").loc[["ar", "bn"]]
    assert (sub["p"] < 0.01).all() and (sub["p_holm"] >= sub["p"]).all()
    sts = t.loc["STS12"]  # no per-item files: the delta only, and it says why
    assert sts["delta"] == pytest.approx(1.0) and sts["verdict"] == "not testable" and "not possible" in sts["test"]
    assert len(res.top_items) == 5 and set(res.top_items["task"]) == {"MIRACLRetrieval"}


def test_compare_identical_per_item_scores(synthetic_results):
    res = compare_runs(*two(synthetic_results, E5_SMALL, "my-org/e5-small-same"), FAST)
    m = res.tasks.set_index("task").loc["MIRACLRetrieval"]
    assert m["p"] == 1.0 and m["verdict"] == "no significant difference" and m["ties"] == 100


def _bitext_run(root: Path, name: str, predicted: list[int]) -> None:
    """A Tatoeba run whose score file and per-item file agree (F1 as mteb computes it)."""
    gold = list(range(len(predicted)))
    rev = root / name.replace("/", "__") / "r"
    write_meta(rev, name)
    f1, acc = f1_score(gold, predicted, average="weighted", zero_division=0), accuracy_score(gold, predicted)
    write_task(rev, "Tatoeba", {"test": [entry("deu-eng", f1, f1=f1, accuracy=acc)]})
    rows = [{"id": str(i), "accuracy": float(p == g), "predicted": p, "gold": g}
            for i, (p, g) in enumerate(zip(predicted, gold, strict=True))]
    write_rows(rev, "Tatoeba", "test", "deu-eng", rows)


def test_tatoeba_is_tested_on_f1_not_accuracy(tmp_path):
    # 40 sentences; A and B both find 30: equal accuracy. A's 10 misses all point at sentence 10 (a collision
    # hurts F1 for label 10), B's 10 misses point at sentences that do not exist (no collision): F1 differs.
    a = [10] * 10 + list(range(10, 40))
    b = [100 + i for i in range(10)] + list(range(10, 40))
    _bitext_run(tmp_path, "org/a", a)
    _bitext_run(tmp_path, "org/b", b)
    res = compare_runs(*two(tmp_path, "org/a", "org/b"), FAST)
    t = res.tasks.set_index("task").loc["Tatoeba"]
    gold = list(range(40))
    by_hand = 100 * (f1_score(gold, b, average="weighted", zero_division=0)
                     - f1_score(gold, a, average="weighted", zero_division=0))
    assert accuracy_score(gold, a) == accuracy_score(gold, b) and by_hand > 0
    assert t["statistic"] == "weighted_f1" and t["delta"] == pytest.approx(by_hand, abs=1e-3)
    assert (t["wins"], t["ties"], t["losses"]) == (0, 40, 0)  # per-item correctness is the same
    assert not [n for n in res.notes if "per-item files give" in n]  # per-item F1 = the score file's F1


def _mean_run(root: Path, name: str, per_subset: dict[str, list[float]], texts: bool = False) -> None:
    rev = root / name.replace("/", "__") / "r"
    write_meta(rev, name)
    write_task(rev, "MIRACLRetrieval", {"dev": [entry(s, float(np.mean(v)), ndcg_at_10=float(np.mean(v)))
                                                for s, v in per_subset.items()]})
    for s, v in per_subset.items():
        write_rows(rev, "MIRACLRetrieval", "dev", s, [{"id": f"q{i}", "ndcg_at_10": x,
                                                      **({"text": f"question {s} {i}"} if texts else {})}
                                                     for i, x in enumerate(v)])


def test_a_task_verdict_names_the_subsets_that_disagree(tmp_path):
    rng = np.random.default_rng(0)
    base = {s: rng.uniform(0.3, 0.7, 80).tolist() for s in ("ar", "bn", "fi")}
    better = {"ar": [x + 0.2 for x in base["ar"]], "bn": [x - 0.2 for x in base["bn"]], "fi": base["fi"]}
    _mean_run(tmp_path, "org/a", base, texts=True)
    _mean_run(tmp_path, "org/b", better)
    res = compare_runs(*two(tmp_path, "org/a", "org/b"), FAST)
    t = res.tasks.set_index("task").loc["MIRACLRetrieval"]
    assert t["delta"] == pytest.approx(0.0, abs=1e-9) and t["verdict"] == "no significant difference"
    assert t["subsets_differ"] == "B better on 1 (ar); B worse on 1 (bn) of 3 subsets (Holm within the task)"
    top = res.top_items
    assert len(top) == 5 and np.allclose(top["delta"].abs(), 20.0)
    assert all(text == f"question {s} {i[1:]}"
               for text, s, i in zip(top["text"], top["subset"], top["id"], strict=True))


def test_item_text_comes_from_the_data_the_run_read(tmp_path, data_root):
    """One real small case: STSBenchmark items' text read back from ../shared/data through the provenance."""
    rows = (data_root / STS_TEST).read_text(encoding="utf-8").splitlines()[:6]
    gold = [float(r.split("\t")[4]) for r in rows]
    for name, noise in (("org/a", 0.0), ("org/b", 1.0)):
        rev = tmp_path / name.replace("/", "__") / "r"
        write_meta(rev, name)
        cos = [g / 5 + noise * (-1) ** i for i, g in enumerate(gold)]
        write_task(rev, "STSBenchmark", {"test": [entry("default", 0.5, cosine_spearman=0.5)]},
                   data_source={"STSBenchmark": f"local:{data_root}"})
        write_rows(rev, "STSBenchmark", "test", "default", [{"id": str(i), "cosine": c, "gold": g}
                                                           for i, (c, g) in enumerate(zip(cos, gold, strict=True))])
    res = compare_runs(*two(tmp_path, "org/a", "org/b"), FAST)
    assert res.tasks.iloc[0]["statistic"] == "spearman"
    first = res.top_items.iloc[0]
    fields = rows[int(first["id"])].split("\t")
    assert first["text"] == f"{fields[5]} || {fields[6]}"  # the pair's two sentences, not a row index


def test_resolve_by_folder_or_by_name_in_every_results_folder(synthetic_results, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(synthetic_results / "my-org__e5-small-ft", other / "my-org__e5-small-ft")
    shutil.copytree(synthetic_results / "intfloat__multilingual-e5-small", other / "only-here__model")
    (other / "only-here__model" / "rev-a" / "model_meta.json").write_text(json.dumps({"name": "only/here"}))
    # a name only in the second --results folder is found there (never silently dropped)
    (label, run), = resolve_runs(["only/here"], [synthetic_results, other], Collection())
    assert label == "only/here" and run.folder == other / "only-here__model"
    with pytest.raises(ConfigError, match="matches 2 runs"):  # the same name in two folders: ambiguous
        resolve_runs(["my-org/e5-small-ft"], [synthetic_results, other], Collection())
    # two folders holding the same model name: labelled by folder
    found = resolve_runs([str(synthetic_results / "my-org__e5-small-ft"), str(other / "my-org__e5-small-ft" / "rev-b")],
                         [], Collection())
    assert [lab for lab, _ in found] == ["my-org__e5-small-ft", "rev-b"]


@pytest.mark.parametrize("make,error,match", [
    (lambda p: p / "typo", ConfigError, "does not exist"),
    (lambda p: (p / "file.json").write_text("{}") and p / "file.json", ConfigError, "is a file"),
    (lambda p: (p / "empty").mkdir() or p / "empty", DataError, "holds no readable result"),
])
def test_a_results_folder_that_holds_no_run_is_an_error(tmp_path, make, error, match):
    with pytest.raises(error, match=match):
        resolve_runs(["org/model", "org/other"], [make(tmp_path)], Collection())


def test_an_unknown_name_lists_the_models_there(synthetic_results):
    with pytest.raises(ConfigError, match="neither a folder nor a model .* models there: intfloat/multilingual"):
        resolve_runs(["nope/model", E5_SMALL], [synthetic_results], Collection())


def test_resolve_refuses_a_root_of_several_models_and_the_same_run_twice(synthetic_results):
    with pytest.raises(ConfigError, match="pass one model or revision folder"):
        resolve_runs([str(synthetic_results), E5_SMALL], [synthetic_results], Collection())
    with pytest.raises(ConfigError, match="the same run is given twice"):
        resolve_runs([E5_SMALL, str(synthetic_results / "intfloat__multilingual-e5-small")], [synthetic_results],
                     Collection())
