"""Every config in evaluation/conf/ composes, every task it names exists in mteb, bad choices fail in one line."""

from __future__ import annotations

import pytest

from evaluation.compose import compose_run_config, group_choices
from evaluation.errors import ConfigError
from evaluation.suites import resolve_suite

MODELS = group_choices("model")
SUITES = group_choices("suite")
LAUNCHERS = group_choices("launcher")


def test_the_expected_configs_exist():
    assert {"small", "base", "large", "large-instruct", "minilm", "custom"} <= set(MODELS)
    assert {"mteb-en", "miracl", "mrtydi", "bucc", "tatoeba", "paper"} <= set(SUITES)
    assert "local" in LAUNCHERS


@pytest.mark.parametrize("model", [m for m in MODELS if m != "custom"])
def test_every_model_composes(model):
    cfg = compose_run_config([f"model={model}"])
    assert cfg.model.name and cfg.model.max_length > 0 and cfg.model.dim in (384, 768, 1024)


def test_custom_model_needs_a_name_and_takes_a_path(tmp_path):
    cfg = compose_run_config(["model=custom", "model.name=me/ckpt", f"model.path={tmp_path}"])
    assert (cfg.model.name, cfg.model.path) == ("me/ckpt", str(tmp_path))


@pytest.mark.parametrize("launcher", LAUNCHERS)
def test_every_launcher_composes(launcher):
    assert compose_run_config([f"launcher={launcher}"]).launcher.name == launcher


@pytest.mark.parametrize("suite", SUITES)
def test_every_suite_names_real_mteb_tasks(suite):
    cfg = compose_run_config([f"suite={suite}"])
    specs = resolve_suite(cfg.suite)
    assert specs, suite
    for spec in specs:  # resolve_suite looked every name, split and subset up in mteb's registry
        assert spec.subsets and spec.task_type


def test_mteb_en_is_exactly_mtebs_benchmark():
    import mteb

    tasks = mteb.get_benchmark("MTEB(eng, v1)").tasks
    bench = {t.metadata.name: (t.eval_splits[0], tuple(t.hf_subsets)) for t in tasks}
    specs = resolve_suite(compose_run_config(["suite=mteb-en"]).suite)
    assert {s.name: (s.split, s.subsets) for s in specs} == bench
    assert len(specs) == 56 and dict((s.name, s.split) for s in specs)["MSMARCO"] == "dev"


def test_paper_suite_is_all_five_suites():
    names = [s.name for s in resolve_suite(compose_run_config(["suite=paper"]).suite)]
    assert len(names) == 60 and {"MIRACLRetrieval", "MrTidyRetrieval", "BUCC", "Tatoeba"} <= set(names)


def test_model_path_points_any_model_at_local_weights():
    cfg = compose_run_config(["model=small", "model.path=/ckpt/me5-small"])
    assert cfg.model.name == "intfloat/multilingual-e5-small" and cfg.model.path == "/ckpt/me5-small"
    assert cfg.model.prompt_style == "query_passage"


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["model=nope"], "unknown model 'nope'; choose one of: base, custom, large"),
        (["suite=nope"], "unknown suite 'nope'; choose one of: bucc, miracl"),
        (["modle.name=x"], "invalid configuration"),
        (["shards=many"], "invalid configuration"),
    ],
)
def test_bad_choices_give_one_clear_error(overrides, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        compose_run_config(overrides)


def test_unknown_task_and_language_list_the_valid_ones():
    cfg = compose_run_config(["suite=miracl"])
    with pytest.raises(ConfigError, match=r"task\(s\) \['SciFact'\] not in suite 'miracl'; valid: MIRACLRetrieval"):
        resolve_suite(cfg.suite, tasks=["SciFact"])
    with pytest.raises(ConfigError, match=r"language\(s\) \['xx'\] not in suite 'miracl'; valid: ar, bn, de"):
        resolve_suite(cfg.suite, langs=["xx"])


def test_langs_narrow_a_suite():
    specs = resolve_suite(compose_run_config(["suite=paper"]).suite, langs=["de-en", "deu-eng", "de"])
    assert {(s.name, s.subsets) for s in specs} == {
        ("BUCC", ("de-en",)), ("Tatoeba", ("deu-eng",)), ("MIRACLRetrieval", ("de",))}
