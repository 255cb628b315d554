"""Reading result folders: what a user may point at, variants kept apart from the published checkpoint, and files
that are JSON but not results."""

from __future__ import annotations

import pytest
from report_synth import entry, write_meta, write_task

from evaluation.errors import ConfigError, DataError
from evaluation.report.collect import collect, collect_results, folder_kind, read_path

E5 = "intfloat/multilingual-e5-small"


def _model(root, name="org/m", rev="r1", **provenance):
    rev_dir = root / name.replace("/", "__") / rev
    write_meta(rev_dir, name)
    write_task(rev_dir, "STS12", {"test": [entry("default", 0.5, cosine_spearman=0.5)]}, **provenance)
    return rev_dir


def test_folder_kinds(tmp_path):
    rev = _model(tmp_path / "results")
    (rev / "details" / "STS12" / "test").mkdir(parents=True)  # per-item files live below; not a model
    assert [folder_kind(p) for p in (tmp_path / "results", rev.parent, rev)] == ["root", "model", "revision"]
    (tmp_path / "empty").mkdir()
    assert folder_kind(tmp_path / "empty") == "empty"
    assert [r.name for r in read_path(rev, "ours", collect([], "ours"))] == ["org/m"]


def test_a_variant_revision_is_its_own_run_never_the_checkpoint(tmp_path):
    _model(tmp_path, E5, "official-rev")
    _model(tmp_path, E5, "local-3f2a", reference_model=E5, variant="local weights, sha256 3f2a")
    runs = {r.name: r for r in collect([tmp_path], "ours").runs}
    assert set(runs) == {E5, f"{E5} [local-3f2a]"}
    official, variant = runs[E5], runs[f"{E5} [local-3f2a]"]
    assert official.variant is None and official.tasks["STS12"].revision == "official-rev"
    assert (variant.reference_model, variant.variant) == (E5, "local weights, sha256 3f2a")


def test_a_revision_that_half_declares_a_reference_is_still_a_variant(tmp_path):
    rev = _model(tmp_path, E5, "r", reference_model=E5)
    write_task(rev, "STS13", {"test": [entry("default", 0.5)]})  # no provenance
    coll = collect([tmp_path], "ours")
    (run,) = coll.runs
    assert run.variant == "local weights" and run.reference_model is None
    assert "disagree on me5_eval.reference_model" in coll.problems[0].what


def test_json_that_is_not_a_result_is_a_problem(tmp_path):
    rev = _model(tmp_path)
    (rev / "STS13.json").write_text("[]")
    (rev / "STS14.json").write_text('{"task_name": "STS14", "scores": {}}')
    coll = collect([tmp_path], "ours")
    assert sorted(p.where.rsplit("/", 1)[1] for p in coll.problems) == ["STS13.json", "STS14.json"]
    assert all("not an mteb result" in p.what for p in coll.problems)
    assert set(coll.runs[0].tasks) == {"STS12"}


def test_our_results_must_hold_something(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        collect_results([tmp_path / "typo"])
    (tmp_path / "a.json").write_text("{}")
    with pytest.raises(ConfigError, match="is a file"):
        collect_results([tmp_path / "a.json"])
    rev = tmp_path / "r" / "org__m" / "x"
    rev.mkdir(parents=True)
    (rev / "STS12.json").write_text("[]")
    with pytest.raises(DataError, match=r"no readable result .*1 unreadable file"):
        collect_results([tmp_path / "r"])


def test_local_weights_filed_under_a_fingerprint_revision_are_a_variant_even_undeclared(tmp_path):
    _model(tmp_path, E5, "official-rev")
    _model(tmp_path, E5, "local-0123456789ab")  # what `me5-eval run` writes for unpinned local weights
    runs = {r.name: r for r in collect([tmp_path], "ours").runs}
    assert set(runs) == {E5, f"{E5} [local-0123456789ab]"}
    local = runs[f"{E5} [local-0123456789ab]"]
    assert (local.reference_model, local.variant) == (E5, "local weights")
    assert runs[E5].variant is None and runs[E5].tasks["STS12"].revision == "official-rev"


def test_superseded_results_are_not_read(tmp_path):
    rev = _model(tmp_path / "results", E5, "r1")
    old = rev / "superseded" / "20261202T090000"  # superseded/<timestamp>/<Task>.json, as results.py keeps them
    old.mkdir(parents=True)
    write_task(old, "STS13", {"test": [entry("default", 0.1)]})
    assert folder_kind(rev) == "revision" and folder_kind(rev.parent) == "model"
    for path in (tmp_path / "results", rev):
        (run,) = collect([path], "ours").runs
        assert run.name == E5 and set(run.tasks) == {"STS12"}
