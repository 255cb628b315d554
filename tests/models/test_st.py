"""A sentence-transformers checkpoint is encoded as sentence-transformers encodes it (evaluation/models/st.py).

The reference is `SentenceTransformer(dir).encode` itself, on copies of all-MiniLM-L6-v2 edited at test time:
CLS pooling (where a mean-pooling encoder would differ by far more than the tolerance), and CLS + Dense + Normalize.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from evaluation.config import ModelConfig
from evaluation.errors import ConfigError
from evaluation.models import st

TEXTS = ["  A man is playing a guitar.  ", "hello", "The quick brown fox jumps over the lazy dog. " * 60, "hello",
         "Ein Mann spielt Gitarre.", "\tTabs and\nnewlines\n"]


def cls_copy(minilm_dir: Path, target: Path) -> Path:
    """all-MiniLM-L6-v2 with its Pooling module switched from mean to CLS."""
    shutil.copytree(minilm_dir, target)
    path = target / "1_Pooling" / "config.json"
    config = json.loads(path.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    path.write_text(json.dumps(config))
    return target


@pytest.fixture(scope="module")
def cls_dir(minilm_dir, tmp_path_factory) -> Path:
    return cls_copy(minilm_dir, tmp_path_factory.mktemp("st") / "minilm-cls")


@pytest.fixture(scope="module")
def dense_dir(cls_dir, tmp_path_factory) -> Path:
    """CLS pooling -> Dense(384 -> 64, tanh, seeded random weights) -> Normalize, saved by sentence-transformers."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Dense, Normalize

    base = SentenceTransformer(str(cls_dir), device="cpu")
    torch.manual_seed(0)
    model = SentenceTransformer(modules=[base[0], base[1], Dense(384, 64), Normalize()], device="cpu")
    target = tmp_path_factory.mktemp("st") / "minilm-cls-dense"
    model.save(str(target))
    return target


def reference(folder: Path, texts: list[str]) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu").encode(texts, convert_to_numpy=True)


def ours(folder: Path, texts: list[str], **kwargs) -> np.ndarray:
    from evaluation.models.lazy import LazyEncoder

    encoder = LazyEncoder(ModelConfig(name="test/st-copy", path=str(folder)), device="cpu")
    return encoder.encode_formatted(texts, normalize=encoder.cfg.normalize, show_progress=False, **kwargs)


@pytest.mark.parametrize("block_rows", [None, 3])
@pytest.mark.parametrize("copy", ["original", "cls"])
def test_checkpoint_equals_sentence_transformers(minilm_dir, cls_dir, copy, block_rows):
    folder = {"original": minilm_dir, "cls": cls_dir}[copy]
    expected = reference(folder, TEXTS)
    got = ours(folder, TEXTS, block_rows=block_rows, batch_size=2)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_shard_vectors_do_not_depend_on_the_shard_count(cls_dir):
    """Corpus shards (retrieval.encode_shard) start on block boundaries: a corpus encoded whole or as two shards
    runs the same sentence-transformers calls, so the vectors are bit for bit the same."""
    texts = [f"document number {i} " + "word " * (i % 7) for i in range(40)]
    whole = ours(cls_dir, texts, block_rows=8, batch_size=4)
    parts = np.concatenate([ours(cls_dir, texts[:16], block_rows=8, batch_size=4),
                            ours(cls_dir, texts[16:], block_rows=8, batch_size=4)])
    np.testing.assert_array_equal(whole, parts)


def test_cls_differs_from_mean(cls_dir, minilm_dir):
    """The test can fail: CLS and mean pooling of the same weights are far apart (the old silent substitution)."""
    assert np.abs(reference(cls_dir, TEXTS) - reference(minilm_dir, TEXTS)).max() > 0.05


def test_dense_and_normalize_equal_sentence_transformers(dense_dir):
    expected = reference(dense_dir, TEXTS)
    got = ours(dense_dir, TEXTS)
    assert got.shape == (len(TEXTS), 64)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_resolved_settings_come_from_the_checkpoint(cls_dir, dense_dir):
    cfg = st.resolve(ModelConfig(name="x", path=str(cls_dir), pooling="mean", max_length=512,
                                 prompt_style="query_passage"))
    assert (cfg.pipeline, cfg.pooling, cfg.normalize, cfg.max_length, cfg.dim, cfg.prompt_style) == (
        "sentence-transformers", "cls", True, 256, 384, "named")
    assert st.resolve(cfg) == cfg
    assert st.resolve(ModelConfig(name="x", path=str(dense_dir))).dim == 64
    with pytest.raises(ConfigError, match="model.dim=384"):
        st.resolve(ModelConfig(name="x", path=str(dense_dir), dim=384))


def test_transformers_pipeline_keeps_the_config(cls_dir):
    cfg = ModelConfig(name="x", path=str(cls_dir), pipeline="transformers", pooling="mean")
    assert st.resolve(cfg) is cfg


def test_copies_do_not_share_a_fingerprint(cls_dir, minilm_dir):
    """The top-level files are identical: the module folders must keep their embeddings apart in the cache."""
    from evaluation.models.loading import predicted_fingerprint

    def fingerprint(folder):
        return predicted_fingerprint(st.resolve(ModelConfig(name="x", path=str(folder))), "cpu")

    assert fingerprint(cls_dir) != fingerprint(minilm_dir)


def test_unsupported_module_is_refused(cls_dir, tmp_path):
    folder = tmp_path / "custom"
    shutil.copytree(cls_dir, folder)
    modules = json.loads((folder / "modules.json").read_text())
    modules.append({"idx": 3, "name": "3", "path": "3_Mine", "type": "my_package.MyPooling"})
    (folder / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(ConfigError, match=r"my_package.MyPooling.*not supported.*model.pipeline=transformers"):
        st.resolve(ModelConfig(name="x", path=str(folder)))


def test_cli_refusal_is_one_line_exit_2(cls_dir, tmp_path, data_root, capsys):
    """`me5-eval run` on a checkpoint with a module we cannot honour: exit 2, one line naming the fix, nothing run."""
    from evaluation.cli import main

    folder = tmp_path / "router"
    shutil.copytree(cls_dir, folder)
    modules = json.loads((folder / "modules.json").read_text())
    modules.insert(1, {"idx": 1, "name": "r", "path": "", "type": "sentence_transformers.models.Router"})
    (folder / "modules.json").write_text(json.dumps(modules))
    rc = main(["run", "model=custom", "model.name=me/router", f"model.path={folder}", "suite=mteb-en",
               "tasks=STSBenchmark", f"data.root={data_root}", f"output.dir={tmp_path / 'out'}"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "Router" in err and "not supported" in err and "Traceback" not in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_missing_pooling_config_is_refused(cls_dir, tmp_path):
    folder = tmp_path / "no-pooling-config"
    shutil.copytree(cls_dir, folder)
    (folder / "1_Pooling" / "config.json").unlink()
    with pytest.raises(ConfigError, match=r"1_Pooling/config.json is missing"):
        st.resolve(ModelConfig(name="x", path=str(folder)))


def test_prompts_excluded_from_pooling_are_refused(cls_dir, tmp_path):
    folder = tmp_path / "no-prompt-pooling"
    shutil.copytree(cls_dir, folder)
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({**pooling, "include_prompt": False}))
    (folder / "config_sentence_transformers.json").write_text(json.dumps({"prompts": {"query": "q: "}}))
    with pytest.raises(ConfigError, match="include_prompt=false"):
        st.resolve(ModelConfig(name="x", path=str(folder)))


def test_checkpoint_prompts_are_applied_as_mteb_resolves_them(cls_dir, tmp_path):
    from evaluation.models.prompts import format_inputs

    folder = tmp_path / "prompted"
    shutil.copytree(cls_dir, folder)
    prompts = {"query": "q: ", "document": "d: ", "STSBenchmark": "sts: "}
    (folder / "config_sentence_transformers.json").write_text(json.dumps({"prompts": prompts}))
    cfg = st.resolve(ModelConfig(name="x", path=str(folder)))

    def fmt(role, task, task_type):
        return format_inputs(["t"], role=role, task_name=task, task_type=task_type, model_cfg=cfg,
                             protocol="paper")[0]

    assert fmt("query", "SciFact", "Retrieval") == "q: t"
    assert fmt("document", "SciFact", "Retrieval") == "d: t"
    assert fmt(None, "STSBenchmark", "STS") == "sts: t"  # the task name wins
    assert fmt(None, "Banking77Classification", "Classification") == "t"  # mteb passes no prompt type there


def _fake_hub(monkeypatch, folder: Path):
    """hf_hub_download answered from ``folder`` (tests never touch the network)."""
    import huggingface_hub
    from huggingface_hub.errors import RemoteEntryNotFoundError

    def download(repo_id, filename, revision=None, **kwargs):
        if not (folder / filename).is_file():
            missing = RemoteEntryNotFoundError.__new__(RemoteEntryNotFoundError)  # its __init__ wants an HTTP reply
            Exception.__init__(missing, f"{filename} not in {repo_id}")
            raise missing
        return str(folder / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)


def test_hub_checkpoint_whose_pipeline_differs_is_refused(cls_dir, monkeypatch):
    _fake_hub(monkeypatch, cls_dir)
    cfg = ModelConfig(name="org/cls-model", pooling="mean", max_length=256)
    with pytest.raises(ConfigError, match=r"pooling cls \(config: mean\).*model.path=DIR"):
        st.check_hub_checkpoint(cfg, None)
    st.check_hub_checkpoint(replace(cfg, pooling="cls"), None)  # the settings reproduce it: accepted
    st.check_hub_checkpoint(replace(cfg, pipeline="transformers"), None)  # asked for the config's settings


def test_hub_repo_without_modules_json_is_plain_transformers(tmp_path, monkeypatch):
    _fake_hub(monkeypatch, tmp_path)
    st.check_hub_checkpoint(ModelConfig(name="org/plain"), None)


def test_missing_modules_json_with_explicit_pipeline(minilm_dir, tmp_path):
    with pytest.raises(ConfigError, match="needs a local folder with modules.json"):
        st.st_folder(ModelConfig(name="x", path=str(tmp_path), pipeline="sentence-transformers"))


@pytest.mark.slow
def test_stsbenchmark_of_the_cls_copy_equals_sentence_transformers(cls_dir, data_root, tmp_path, shared_cache_dir):
    """Acceptance (issue 14): `me5-eval run` on the CLS copy scores what SentenceTransformer(dir).encode + Spearman
    of the cosine scores gives (mteb's STS main score), within 0.05 points."""
    from scipy.stats import spearmanr

    from evaluation.data.sts import read_stsbenchmark
    from evaluation.runner import run_from_overrides

    data = read_stsbenchmark(data_root / "sts" / "senteval" / "STSBenchmark" / "stsbenchmark" / "sts-test.csv")
    a, b = reference(cls_dir, data.sentence1), reference(cls_dir, data.sentence2)
    cosine = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    expected = 100 * spearmanr(cosine, data.scores).statistic
    [result] = run_from_overrides(["model=custom", "model.name=test/minilm-cls", f"model.path={cls_dir}",
                                   "suite=mteb-en", "tasks=STSBenchmark", f"data.root={data_root}",
                                   f"output.dir={tmp_path / 'out'}", f"cache.dir={shared_cache_dir}", "device=cpu"])
    assert 100 * result.scores["test"][0]["main_score"] == pytest.approx(expected, abs=0.05)
    [path] = (tmp_path / "out" / "test__minilm-cls").glob("*/STSBenchmark.json")
    assert path.parent.name.startswith("local-")  # local weights no config pins: filed under their fingerprint
    meta = json.loads(path.read_text())["me5_eval"]
    assert (meta["pipeline"], meta["pooling"], meta["max_length"]) == ("sentence-transformers", "cls", 256)
