"""Every setting is checked before any work (evaluation/validation.py): folders are probe-written before a model
loads, the model's position limit bounds max_length, and a run stores only the metrics its depth supports.

The CLI side (exit 2, one line, nothing lost) is the bad-input table (tests/test_bad_input.py); these tests pin
what that table cannot see: that nothing was loaded, what the probe leaves behind, and which keys are stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bad_input_cases import MIRACL_CORPUS, MIRACL_QRELS, MIRACL_TOPICS, beir_files, write_files

from evaluation.atomic import UnwritableError
from evaluation.cli import main
from evaluation.compose import compose_run_config
from evaluation.errors import ConfigError
from evaluation.models import loading
from evaluation.scoring import metric_depth, supported_scores
from evaluation.validation import check_depth, position_limit, probe_writable


@pytest.fixture
def loads(monkeypatch) -> list[str]:
    """Every model load of the test (the LazyEncoder looks loading.load_encoder up at call time)."""
    seen: list[str] = []

    def refuse(model_cfg, **kwargs):
        seen.append(model_cfg.name)
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(loading, "load_encoder", refuse)
    return seen


@pytest.mark.parametrize("where", ["output", "cache"])
def test_an_unwritable_folder_fails_before_any_model_loads(where, tmp_path, loads, capsys):
    write_files(tmp_path, beir_files())
    (tmp_path / "blocked").write_text("a file where the folder should be\n")
    out = tmp_path / ("blocked/out" if where == "output" else "out")
    cache = tmp_path / ("blocked/cache" if where == "cache" else "cache")  # a fresh cache: encoding would load
    rc = main(["run", "model=minilm", "suite=mteb-en", "tasks=[SciFact]", f"data.paths.SciFact={tmp_path / 'beir'}",
               f"output.dir={out}", f"cache.dir={cache}"])
    err = capsys.readouterr().err
    assert rc == 2 and f"{where}.dir={tmp_path / 'blocked'}/" in err and "is a file where a folder is needed" in err
    assert loads == []
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()  # the probe left nothing behind


def test_probe_leaves_an_existing_folder_as_it_was_and_removes_the_folders_it_made(tmp_path):
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "a.json").write_text("{}")
    probe_writable(tmp_path / "keep", "output.dir")
    assert sorted(p.name for p in (tmp_path / "keep").iterdir()) == ["a.json"]
    probe_writable(tmp_path / "new" / "deeper", "cache.dir")
    assert not (tmp_path / "new").exists()


def test_probe_names_the_setting_of_a_read_only_folder(tmp_path):
    from bad_input_cases import _set_read_only

    ro = tmp_path / "ro"
    ro.mkdir()
    _set_read_only(ro, True)
    try:
        with pytest.raises(UnwritableError, match=r"^output\.dir=.*/ro: cannot write .*make that folder writable"):
            probe_writable(ro, "output.dir")
    finally:
        _set_read_only(ro, False)


def test_position_limit_from_the_models_config(minilm_dir, tmp_path):
    assert position_limit(str(minilm_dir)) == 512  # BERT: max_position_embeddings 512
    # XLM-R (the mE5 checkpoints' config.json): 514 positions, the first two taken by padding_idx + 1 (RoBERTa's
    # position ids start at 2), so 512 tokens, what the authors encode with
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "xlm-roberta", "max_position_embeddings": 514}))
    assert position_limit(str(tmp_path)) == 512
    assert position_limit(None) is None  # a hub model: known once it loads


def test_max_length_within_the_local_models_limit(minilm_dir):
    assert compose_run_config(["model=minilm", f"model.path={minilm_dir}", "model.max_length=512"]).model.max_length \
        == 512
    with pytest.raises(ConfigError, match=r"model.max_length=513 is out of range: .* <= 512"):
        compose_run_config(["model=minilm", f"model.path={minilm_dir}", "model.max_length=513"])
    # a hub model without a local folder: only the lower bound is known before it loads
    assert compose_run_config(["model=small", "model.max_length=1024"]).model.max_length == 1024


@pytest.mark.parametrize("value", ["1.5", "true", "'ten'"])
def test_a_count_that_is_not_an_integer_is_refused_when_composed(value):
    with pytest.raises(ConfigError):
        compose_run_config(["model=minilm", f"shards={value}"])


def test_metric_depth_reads_the_cutoff_of_every_mteb_key():
    assert metric_depth("ndcg_at_10") == 10
    assert metric_depth("recall_at_1000") == 1000
    assert metric_depth("nauc_mrr_at_100_diff1") == 100
    assert metric_depth("main_score") == 1
    scores = {"ndcg_at_10": 0.5, "recall_at_100": 0.9, "recall_at_1000": 1.0, "nauc_ndcg_at_1000_max": 0.1}
    assert supported_scores(scores, 100) == {"ndcg_at_10": 0.5, "recall_at_100": 0.9}


def test_check_depth_refuses_a_run_shallower_than_the_main_score():
    check_depth(10, [("MIRACLRetrieval", "ndcg_at_10", 10)])
    with pytest.raises(ConfigError, match="top_k=9 is shallower than MIRACLRetrieval's main score ndcg_at_10"):
        check_depth(9, [("MIRACLRetrieval", "ndcg_at_10", 10)])


def _miracl_result(tmp_path: Path, shared_cache_dir: Path, top_k: int) -> dict:
    write_files(tmp_path, {"root/miracl/topics/topics.miracl-v1.0-sw-dev.tsv": MIRACL_TOPICS,
                           "root/miracl/qrels/qrels.miracl-v1.0-sw-dev.tsv": MIRACL_QRELS,
                           "root/miracl/corpus/sw/corpus.jsonl": MIRACL_CORPUS})
    out = tmp_path / f"out{top_k}"
    assert main(["run", "model=minilm", "suite=miracl", "langs=[sw]", f"data.root={tmp_path / 'root'}",
                 f"output.dir={out}", f"cache.dir={shared_cache_dir}", f"top_k={top_k}"]) == 0
    [path] = out.rglob("MIRACLRetrieval.json")
    [entry] = json.loads(path.read_text())["scores"]["dev"]
    return entry


def test_a_miracl_run_stores_only_the_metrics_its_depth_supports(tmp_path, shared_cache_dir, caplog):
    """Two queries, each with its one relevant passage ranked first by all-MiniLM-L6-v2 (a 2-passage corpus):
    nDCG@10 = MRR@10 = 1 by hand. A 100-deep run stores K <= 100 only (no *_at_1000 from a 100-deep list)."""
    caplog.set_level("INFO", logger="evaluation")
    entry = _miracl_result(tmp_path, shared_cache_dir, 100)
    assert entry["ndcg_at_10"] == pytest.approx(1.0) and entry["recall_at_100"] == pytest.approx(1.0)
    assert max(metric_depth(k) for k in entry) == 100
    assert not [k for k in entry if k.endswith("_at_1000") or "_at_1000_" in k]
    assert "metrics at K > 100 (up to K=1000" in caplog.text
    shallow = _miracl_result(tmp_path, shared_cache_dir, 10)
    assert max(metric_depth(k) for k in shallow) == 10 and "recall_at_100" not in shallow
    assert shallow["ndcg_at_10"] == pytest.approx(1.0)
