"""End to end on real data: all-MiniLM-L6-v2 (its own protocol) through `me5-eval run`, checked against the
published MTEB scores in ../shared/data/reference, and read back by mteb's own result loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.cli import main
from evaluation.runner import run_from_overrides

MINILM = "sentence-transformers__all-MiniLM-L6-v2"
REVISION = "8b3219a92973c328a8e22fadcfa821b5dc75636a"
# Published all-MiniLM-L6-v2 scores (reference/mteb-results, mteb 1.12.75) and the tolerances.
PUBLISHED = {"STSBenchmark": (82.03, 0.3), "SciFact": (64.51, 0.3), "Banking77Classification": (80.04, 1.0)}


def published_main_score(data_root: Path, task: str) -> float:
    path = data_root / "reference" / "mteb-results" / MINILM / REVISION / f"{task}.json"
    return 100 * json.loads(path.read_text())["scores"]["test"][0]["main_score"]


@pytest.fixture(scope="module")
def minilm_run(data_root, tmp_path_factory, shared_cache_dir):
    base = tmp_path_factory.mktemp("minilm")
    overrides = ["model=minilm", "suite=mteb-en", "tasks=[STSBenchmark,SciFact,Banking77Classification]",
                 f"data.root={data_root}", f"output.dir={base / 'results'}", f"cache.dir={shared_cache_dir}"]
    results = run_from_overrides(overrides)
    return dict(base=base, overrides=overrides, results={r.task_name: r for r in results})


@pytest.mark.slow
@pytest.mark.parametrize("task", sorted(PUBLISHED))
def test_minilm_matches_published_scores(minilm_run, data_root, task):
    expected, tolerance = PUBLISHED[task]
    assert published_main_score(data_root, task) == pytest.approx(expected, abs=0.005)
    ours = 100 * minilm_run["results"][task].get_score()
    assert ours == pytest.approx(expected, abs=tolerance), f"{task}: ours {ours:.2f} vs published {expected}"


@pytest.mark.slow
def test_results_load_back_with_mtebs_own_loader(minilm_run):
    from mteb import ResultCache

    cache = ResultCache(cache_path=minilm_run["base"])  # mteb reads <cache_path>/results/<model>/<revision>/
    loaded = cache.load_results(include_remote=False, require_model_meta=True)
    [model] = loaded.model_results
    assert (model.model_name, model.model_revision) == ("sentence-transformers/all-MiniLM-L6-v2", REVISION)
    by_task = {r.task_name: r.get_score() for r in model.task_results}
    for name, result in minilm_run["results"].items():
        assert by_task[name] == pytest.approx(result.get_score(), abs=1e-6)


@pytest.mark.slow
def test_result_json_records_the_run(minilm_run, data_root):
    rev = minilm_run["base"] / "results" / MINILM / REVISION
    obj = json.loads((rev / "SciFact.json").read_text())
    prov = obj["me5_eval"]
    assert prov["protocol"] == "paper" and prov["prompt_style"] == "none" and prov["dtype"] == "float32"
    assert prov["revision"] == REVISION and prov["data_source"]["SciFact"] == f"local:{data_root}"
    assert obj["mteb_version"] and obj["dataset_revision"]


@pytest.mark.slow
def test_retrieval_writes_a_trec_run_and_per_query_metrics(minilm_run):
    details = minilm_run["base"] / "results" / MINILM / REVISION / "details" / "SciFact" / "test"
    lines = (details / "default.run.trec").read_text().splitlines()
    by_query: dict[str, int] = {}
    for line in lines:
        qid, q0, _docid, rank, _score, _tag = line.split()
        assert q0 == "Q0" and int(rank) == by_query.get(qid, 0) + 1
        by_query[qid] = int(rank)
    assert len(by_query) == 300 and set(by_query.values()) == {100}
    per_query = [json.loads(x) for x in (details / "default.per_item.jsonl").read_text().splitlines()]
    assert len(per_query) == 300 and {"id", "ndcg_at_10", "recall_at_100"} <= set(per_query[0])


@pytest.mark.slow
def test_rerun_resumes_without_loading_the_model(minilm_run, monkeypatch):
    import evaluation.models.loading as loading

    def no_model(*args, **kwargs):
        raise AssertionError("a complete rerun must not load the model")

    monkeypatch.setattr(loading, "load_encoder", no_model)
    again = {r.task_name: r.get_score() for r in run_from_overrides(minilm_run["overrides"])}
    first = {name: r.get_score() for name, r in minilm_run["results"].items()}
    assert again == pytest.approx(first, abs=1e-6)  # read back from the JSON, which keeps 6 decimals as mteb


@pytest.mark.slow
def test_warm_recompute_scores_from_the_cache_without_loading_the_model(minilm_run, monkeypatch, tmp_path):
    """output.overwrite=true re-scores every task; with every embedding cached no weights are loaded."""
    import evaluation.models.loading as loading

    def no_model(*args, **kwargs):
        raise AssertionError("a fully cached rerun must not load the model")

    monkeypatch.setattr(loading, "load_encoder", no_model)
    overrides = [o for o in minilm_run["overrides"] if not o.startswith("output.dir=")]
    again = run_from_overrides([*overrides, f"output.dir={tmp_path}", "output.overwrite=true"])
    first = {name: r.get_score() for name, r in minilm_run["results"].items()}
    assert {r.task_name: r.get_score() for r in again} == pytest.approx(first, abs=1e-9)
    assert (tmp_path / MINILM / REVISION / "model_meta.json").is_file()


@pytest.mark.slow
def test_make_eval_command_line_writes_results_mteb_loads(data_root, tmp_path, minilm_run, shared_cache_dir):
    """`make eval MODEL=minilm SUITE=mteb-en TASKS=STSBenchmark,SciFact DATA=...` is this command line."""
    out = tmp_path / "results"
    rc = main(["run", "model=minilm", "suite=mteb-en", "tasks=[STSBenchmark,SciFact]", f"data.root={data_root}",
               f"output.dir={out}", f"cache.dir={shared_cache_dir}"])  # warm cache: no re-encoding
    assert rc == 0
    from mteb import TaskResult

    for task in ("STSBenchmark", "SciFact"):
        loaded = TaskResult.from_disk(out / MINILM / REVISION / f"{task}.json")
        assert loaded.get_score() == pytest.approx(minilm_run["results"][task].get_score(), abs=1e-6)
