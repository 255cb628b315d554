"""The plan counts every work unit from the real topics/qrels, without loading a model."""

from __future__ import annotations

import gzip

import pytest

from evaluation.compose import compose_run_config
from evaluation.gpu_rates import load_gpu_rates, parse_rates
from evaluation.plan import CPU_TEXTS_PER_S, PlanRow, cpu_minutes, estimate, model_shape, plan_rows

MIRACL_LANGS = "ar bn de en es fa fi fr hi id ja ko ru sw te th yo zh".split()
MRTYDI = {"ar": "arabic", "bn": "bengali", "en": "english", "fi": "finnish", "id": "indonesian", "ja": "japanese",
          "ko": "korean", "ru": "russian", "sw": "swahili", "te": "telugu", "th": "thai"}


def _lines(path) -> int:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return sum(1 for line in f if line.strip())


def test_miracl_dev_plan_counts_every_language_from_the_topics(data_root):
    rows = plan_rows(compose_run_config(["model=large", "suite=miracl", f"data.root={data_root}"]))
    assert [r.subset for r in rows] == MIRACL_LANGS and {r.split for r in rows} == {"dev"}
    for row in rows:
        topics = data_root / "miracl" / "topics" / f"topics.miracl-v1.0-{row.subset}-dev.tsv"
        assert row.queries == _lines(topics), row.subset
    assert sum(r.queries for r in rows) == 13495  # mteb's MIRACLRetrieval dev: 13,495 queries
    # the corpora are not shipped: their sizes come from mteb's statistics of the hub dataset
    assert sum(r.documents for r in rows) == 106_332_152


def test_mrtydi_test_plan_counts_every_language(data_root):
    rows = plan_rows(compose_run_config(["model=small", "suite=mrtydi", f"data.root={data_root}"]))
    assert sorted(r.subset for r in rows) == sorted(MRTYDI.values()) and {r.split for r in rows} == {"test"}
    by_subset = {r.subset: r.queries for r in rows}
    for iso, name in MRTYDI.items():
        topics = data_root / "mrtydi" / "topics" / f"topics.mrtydi-v1.1-{iso}.test.txt.gz"
        assert by_subset[name] == _lines(topics), name
    assert sum(by_subset.values()) == 8661  # Mr.TyDi paper, Table 1 (test)


def test_estimate_scales_with_model_size(data_root, monkeypatch, tmp_path):
    import evaluation.gpu_rates as gpu_rates

    monkeypatch.delenv("ME5_EVAL_GPU_RATES", raising=False)
    monkeypatch.setattr(gpu_rates, "PROJECT_FILE", tmp_path / "none.json")  # no `make bench-gpu` report: the anchor
    rows = plan_rows(compose_run_config(["model=large", "suite=miracl", f"data.root={data_root}"]))
    rates = load_gpu_rates(str(data_root))
    assert rates.source.endswith("h100-bare-loop.json") and rates.gpu == "NVIDIA H100 80GB HBM3"
    assert rates.passages_per_s == {384: 22755.5, 768: 11496.2, 1024: 3915.5}  # the anchor's best sorted rows
    small, large = estimate(rows, 384, rates), estimate(rows, 1024, rates)
    texts = sum(r.texts for r in rows)
    assert small["gpu_hours"] == pytest.approx(texts / 22755.5 / 3600)
    assert large["gpu_hours"] == pytest.approx(texts / 3915.5 / 3600)
    assert large["shard_disk_gb"] == pytest.approx(106_332_152 * 1024 * 2 / 1e9)  # MIRACL: fp16 shards
    assert estimate(rows, 1024, rates, "float32")["shard_disk_gb"] == pytest.approx(106_332_152 * 1024 * 4 / 1e9)


def test_mteb_corpora_are_planned_as_float32_shards():
    rows = [PlanRow("SciFact", "default", "test", 300, 5183, 5483, 1, "local")]
    assert estimate(rows, 384, None)["shard_disk_gb"] == pytest.approx(5183 * 384 * 4 / 1e9)
    assert estimate(rows, 384, None, "float16")["shard_disk_gb"] == pytest.approx(5183 * 384 * 2 / 1e9)


def test_cpu_estimate_scales_with_the_models_shape(minilm_dir):
    """2,400 texts at CPU_TEXTS_PER_S per core: all-MiniLM-L6-v2 (6 x 384, read from its config.json) on 2 cores;
    mE5-small without a local dir is assumed 12 x 384: twice the cost; base (12 x 768) four times that."""
    rows = [PlanRow("STSBenchmark", "default", "test", None, None, 2400, 1, "local")]
    minilm = compose_run_config(["model=minilm", f"model.path={minilm_dir}"]).model
    assert model_shape(minilm) == (6, 384)
    assert cpu_minutes(rows, minilm, cores=2) == pytest.approx(2400 / (2 * CPU_TEXTS_PER_S) / 60)
    small, base = (compose_run_config([f"model={m}"]).model for m in ("small", "base"))
    assert cpu_minutes(rows, small, cores=2) == pytest.approx(2 * cpu_minutes(rows, minilm, cores=2))
    assert cpu_minutes(rows, base, cores=4) == pytest.approx(2 * cpu_minutes(rows, small, cores=2))


def test_gpu_rates_come_from_the_bench_gpu_report_but_never_a_smoke_run(tmp_path, monkeypatch):
    import json

    import evaluation.gpu_rates as gpu_rates

    report = tmp_path / "gpu-latest.json"
    report.write_text(json.dumps({"gpu": "NVIDIA H200", "smoke": False,
                                  "plan_rates": {"small": 20000.0, "base": 10000.0, "large": 3600.0}}))
    monkeypatch.setattr(gpu_rates, "PROJECT_FILE", report)
    rates = load_gpu_rates(None)
    assert (rates.gpu, rates.passages_per_s) == ("NVIDIA H200", {384: 20000.0, 768: 10000.0, 1024: 3600.0})
    assert rates.rate(2048) == 3600.0  # an unmeasured size gets the slowest rate
    rows = [PlanRow("MIRACLRetrieval", "sw", "dev", 0, 7_200_000, 7_200_000, 1, "local")]
    assert estimate(rows, 384, rates)["gpu_hours"] == 7_200_000 / 20000 / 3600  # 0.1 h
    report.write_text(json.dumps({"gpu": "cpu", "smoke": True, "plan_rates": {"small": 5.0}}))
    assert parse_rates(report) is None and load_gpu_rates(None) is None
    assert estimate(rows, 384, None)["gpu_hours"] is None
    monkeypatch.setenv("ME5_EVAL_GPU_RATES", str(tmp_path / "missing.json"))
    assert load_gpu_rates(None) is None
