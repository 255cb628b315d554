"""Issue 11 section 1 acceptance: a rerun after changing the weights, the tokenizer, the corpus or the qrels under
the same names gives the new score (equal to a fresh run's on the changed inputs, and different from the old one)
and keeps the replaced result; a rerun with nothing changed computes nothing; local weights are filed under the
published revision only when they hash equal to the pin.

Real all-MiniLM-L6-v2 (its pip package) on ``mini_scifact`` (64 real SciFact documents, 16 queries): seconds a run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evaluation import fingerprint
from evaluation import runner as runner_mod
from evaluation.models import loading
from evaluation.runner import run_from_overrides

MINILM = "sentence-transformers__all-MiniLM-L6-v2"
OFFICIAL = "8b3219a92973c328a8e22fadcfa821b5dc75636a"

pytestmark = pytest.mark.slow


def _run(corpus: Path, out: Path, cache: Path, *extra: str) -> float:
    [result] = run_from_overrides(["model=minilm", "suite=mteb-en", "tasks=[SciFact]", "data.root=null",
                                   f"data.paths.SciFact={corpus}", f"output.dir={out}", f"cache.dir={cache}", *extra])
    return result.scores["test"][0]["ndcg_at_10"]


def _stored(out: Path, revision: str = OFFICIAL) -> float:
    obj = json.loads((out / MINILM / revision / "SciFact.json").read_text())
    return obj["scores"]["test"][0]["ndcg_at_10"]


def _superseded(out: Path, revision: str = OFFICIAL) -> list[float]:
    return [json.loads(p.read_text())["scores"]["test"][0]["ndcg_at_10"]
            for p in sorted((out / MINILM / revision / "superseded").glob("*/SciFact.json"))]


@pytest.fixture
def scifact(mini_scifact, tmp_path) -> Path:
    return shutil.copytree(mini_scifact, tmp_path / "scifact")


@pytest.fixture
def cache(shared_cache_dir) -> Path:
    """The session's embedding cache: content-addressed, so unchanged texts are encoded once for all these tests."""
    return shared_cache_dir


def _drop_half_the_qrels(corpus: Path) -> None:
    head, *rows = (corpus / "qrels" / "test.tsv").read_text().splitlines()
    (corpus / "qrels" / "test.tsv").write_text("\n".join([head, *rows[::2]]) + "\n")


def _drop_relevant_documents(corpus: Path) -> None:
    """The first judged document of every other query leaves the corpus (the qrels still name it)."""
    _, *rows = (corpus / "qrels" / "test.tsv").read_text().splitlines()
    gone = {r.split("\t")[1] for r in rows[::2]}
    lines = (corpus / "corpus.jsonl").read_text().splitlines()
    (corpus / "corpus.jsonl").write_text("".join(x + "\n" for x in lines if json.loads(x)["_id"] not in gone))


def _blank_relevant_texts(corpus: Path) -> None:
    """Same ids, same count, same order: only the texts of every other query's judged documents change (a
    corrected corpus). Shards are checked against their docids, so only the corpus digest in their key tells."""
    _, *rows = (corpus / "qrels" / "test.tsv").read_text().splitlines()
    gone = {r.split("\t")[1] for r in rows[::2]}
    docs = [json.loads(x) for x in (corpus / "corpus.jsonl").read_text().splitlines()]
    docs = [{**d, "title": "", "text": "an unrelated note about the weather"} if d["_id"] in gone else d for d in docs]
    (corpus / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))


@pytest.mark.parametrize("change", [_drop_half_the_qrels, _drop_relevant_documents, _blank_relevant_texts],
                         ids=["qrels", "corpus", "corpus-texts"])
def test_changed_data_under_the_same_name_gives_the_new_score_and_keeps_the_old(change, scifact, cache, tmp_path):
    out = tmp_path / "out"
    old = _run(scifact, out, cache)
    change(scifact)
    new = _run(scifact, out, cache)
    fresh = _run(scifact, tmp_path / "fresh", cache)  # the changed data into an empty results folder
    assert new == pytest.approx(fresh, abs=1e-6) and abs(new - old) > 1e-3
    assert _stored(out) == pytest.approx(new, abs=1e-6) and _superseded(out) == [pytest.approx(old, abs=1e-6)]


def test_a_rerun_with_nothing_changed_computes_nothing_and_hashes_nothing(scifact, cache, tmp_path, monkeypatch):
    out = tmp_path / "out"
    old = _run(scifact, out, cache)
    before = (out / MINILM / OFFICIAL / "SciFact.json").read_bytes()
    hashed: list[Path] = []
    monkeypatch.setattr(fingerprint, "_MEMORY", {})  # a new process: only <cache>/sha256-memo.json remembers
    monkeypatch.setattr(fingerprint, "_SAVED", set())
    monkeypatch.setattr(fingerprint, "sha256_of", lambda p: hashed.append(p) or pytest.fail(f"re-hashed {p}"))
    monkeypatch.setattr(loading, "load_encoder", lambda *a, **k: pytest.fail("the model was loaded"))
    monkeypatch.setattr(runner_mod, "evaluate_spec", lambda *a, **k: pytest.fail("the task was evaluated"))
    assert _run(scifact, out, cache) == old
    assert (out / MINILM / OFFICIAL / "SciFact.json").read_bytes() == before and not hashed
    assert not (out / MINILM / OFFICIAL / "superseded").exists()


def test_a_changed_setting_recomputes(scifact, cache, tmp_path):
    out = tmp_path / "out"
    old = _run(scifact, out, cache)
    new = _run(scifact, out, cache, "model.max_length=16")  # truncation changes the vectors
    assert new == pytest.approx(_run(scifact, tmp_path / "fresh", cache, "model.max_length=16"), abs=1e-6)
    assert abs(new - old) > 1e-3 and _superseded(out) == [pytest.approx(old, abs=1e-6)]


def _copy_model(minilm_dir: Path, dest: Path) -> Path:
    return shutil.copytree(minilm_dir, dest)


def test_a_changed_tokenizer_under_the_same_path_gives_the_new_score(minilm_dir, scifact, cache, tmp_path):
    """The same (pinned) weights, so the results stay under the official revision; the tokenizer no longer
    lower-cases, which changes the numbers: the old result is superseded."""
    ckpt, out = _copy_model(minilm_dir, tmp_path / "ckpt"), tmp_path / "out"
    old = _run(scifact, out, cache, f"model.path={ckpt}")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        obj = json.loads((ckpt / name).read_text())
        if name == "tokenizer.json":
            obj["normalizer"]["lowercase"] = False
        else:
            obj["do_lower_case"] = False
        (ckpt / name).write_text(json.dumps(obj))
    new = _run(scifact, out, cache, f"model.path={ckpt}")
    fresh = _run(scifact, tmp_path / "fresh", cache, f"model.path={ckpt}")
    assert new == pytest.approx(fresh, abs=1e-6) and abs(new - old) > 1e-3
    assert _stored(out) == pytest.approx(new, abs=1e-6) and _superseded(out) == [pytest.approx(old, abs=1e-6)]


def test_changed_weights_are_never_filed_under_the_published_revision(minilm_dir, scifact, cache, tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    ckpt, out = _copy_model(minilm_dir, tmp_path / "ckpt"), tmp_path / "out"
    old = _run(scifact, out, cache, f"model.path={ckpt}")  # a byte-identical copy: the published checkpoint
    assert sorted(p.name for p in (out / MINILM).iterdir()) == [OFFICIAL]
    tensors = load_file(ckpt / "model.safetensors")
    name = "embeddings.word_embeddings.weight"  # "retrained" in place, same file name: noise on every token's vector
    noise = torch.randn(tensors[name].shape, generator=torch.Generator().manual_seed(0))
    tensors[name] = tensors[name] + 0.05 * noise
    save_file(tensors, ckpt / "model.safetensors", metadata={"format": "pt"})
    new = _run(scifact, out, cache, f"model.path={ckpt}")
    [local] = [p.name for p in (out / MINILM).iterdir() if p.name != OFFICIAL]
    assert local.startswith("local-") and _stored(out, local) == pytest.approx(new, abs=1e-6)
    assert new == pytest.approx(_run(scifact, tmp_path / "fresh", cache, f"model.path={ckpt}"), abs=1e-6)
    assert abs(new - old) > 1e-4 and _stored(out) == pytest.approx(old, abs=1e-6)  # the published one untouched
