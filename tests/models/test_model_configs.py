"""evaluation/conf/model/*.yaml: each composes against ModelConfig, agrees with mteb's registry / the model package."""

from __future__ import annotations

import json

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from evaluation.compose import conf_dir
from evaluation.config import ModelConfig, register_configs

CONF = conf_dir()
REGISTRY_MODELS = {  # conf name -> mteb registry name
    "small": "intfloat/multilingual-e5-small",
    "base": "intfloat/multilingual-e5-base",
    "large": "intfloat/multilingual-e5-large",
    "large-instruct": "intfloat/multilingual-e5-large-instruct",
    "minilm": "sentence-transformers/all-MiniLM-L6-v2",
}


def _model(*overrides: str):
    register_configs()
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides)).model


@pytest.mark.parametrize("name", sorted(REGISTRY_MODELS))
def test_matches_mteb_registry(name):
    import mteb

    model = _model(f"model={name}")
    assert OmegaConf.get_type(model) is ModelConfig
    meta = mteb.get_model_meta(model.name)
    assert model.name == REGISTRY_MODELS[name]
    assert (model.revision, model.dim) == (meta.revision, meta.embed_dim)
    assert model.prompt_style == {"large-instruct": "instruction", "minilm": "none"}.get(name, "query_passage")


def test_minilm_max_length_is_its_sentence_transformers_setting(minilm_dir):
    st_config = json.loads((minilm_dir / "sentence_bert_config.json").read_text())
    assert _model("model=minilm").max_length == st_config["max_seq_length"] == 256


def test_instruct_template_is_the_authors():
    template = _model("model=large-instruct").instruction_template
    assert template.format(instruction="I", text="q") == "Instruct: I\nQuery: q"


def test_custom_needs_name_and_path():
    from omegaconf.errors import MissingMandatoryValue

    with pytest.raises(MissingMandatoryValue):
        OmegaConf.to_object(_model("model=custom"))
    model = _model(
        "model=custom", "model.name=org/my-e5", "model.path=/ckpt/my-e5", "model.dim=768", "model.pooling=cls"
    )
    assert (model.name, model.path, model.dim, model.pooling) == ("org/my-e5", "/ckpt/my-e5", 768, "cls")


def test_typo_in_a_key_fails():
    with pytest.raises(ConfigCompositionException):
        _model("model=small", "model.dimm=3")
    with pytest.raises(ConfigCompositionException):
        _model("model=small", "model.dim=big")
