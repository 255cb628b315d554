"""Build an E5Encoder from a ModelConfig: a local model dir, or a hub id at a pinned revision.

A local dir never touches the network (local_files_only). Failures raise ModelLoadError naming the fix.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from huggingface_hub.constants import is_offline_mode

from evaluation.config import ModelConfig
from evaluation.errors import ConfigError, ModelLoadError, ModelOutputError
from evaluation.fingerprint import file_sha256, files_sha256
from evaluation.models import st
from evaluation.models.encoder import E5Encoder
from evaluation.validation import POOLINGS, PROMPT_STYLES, PROTOCOLS, check_choice

log = logging.getLogger(__name__)

WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
_CONFIG_SUFFIXES = (".json", ".txt", ".model")  # config + tokenizer files (tokenizer.json, vocab.txt, spm .model)
_WEIGHT_SUFFIXES = (".safetensors", ".bin")
_LOADED: dict[str, E5Encoder] = {}  # load_encoder_once: one model per (config, device, protocol) and process


# The vocabulary files of the tokenizers transformers builds (fast tokenizer.json; WordPiece, SentencePiece, BPE).
# Without one, AutoTokenizer still "loads" from config.json: a 5-token BERT tokenizer mapping every word to [UNK].
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "sentencepiece.bpe.model", "spiece.model", "tokenizer.model",
                   "vocab.json")
# Embedding matrices are often a little larger than the vocabulary: padded to a multiple of 64/128 for the GPU
# (50257 tokens -> 50304 rows) or with reserved rows (Qwen2: 151665 tokens, 151936 rows). A gap beyond this is
# another model's tokenizer.
_SPARE_ROWS = 256
_SPARE_FRACTION = 0.01


def load_encoder(model_cfg: ModelConfig, device: str = "auto", protocol: str = "paper") -> E5Encoder | st.StEncoder:
    """Load tokenizer + model onto `device` (auto: CUDA if visible) in model_cfg.dtype; a sentence-transformers
    folder (models/st.py) as a SentenceTransformer."""
    check_settings(model_cfg, protocol)
    dev = resolve_device(device)
    dtype = resolve_dtype(model_cfg.dtype, dev)
    local = local_model_dir(model_cfg)
    if local is not None and st.st_folder(model_cfg) is not None:  # as sentence-transformers encodes it
        model_cfg = st.resolve(model_cfg)
        model = st.load_sentence_transformer(local, dev, dtype)
        check_tokenizer_fits(model.tokenizer, model[0].auto_model, str(local))
        return st.StEncoder(model, model_cfg, device=dev, dtype=dtype, protocol=protocol,
                            fingerprint=predicted_fingerprint(model_cfg, device))
    if local is not None:
        model, tokenizer = _from_pretrained(str(local), dtype, local_files_only=True)
        weights = _local_weights(local)
    else:
        st.check_hub_checkpoint(model_cfg, model_cfg.revision)  # before minutes of downloading weights
        model, tokenizer = _load_from_hub(model_cfg.name, model_cfg.revision, dtype)
        weights = f"{model_cfg.name}@{model_cfg.revision or _commit_hash(model)}"
    return E5Encoder(
        model.to(dev), tokenizer, model_cfg, device=dev, dtype=dtype, protocol=protocol,
        fingerprint=_fingerprint(weights, model_cfg, dtype),
    )


def load_encoder_once(model_cfg: ModelConfig, device: str = "auto", protocol: str = "paper") -> E5Encoder:
    """``load_encoder``, remembered for the process: a sweep worker process that runs many shard jobs (gpus, joblib,
    Ray) loads the model once."""
    key = f"{json.dumps(asdict(model_cfg), sort_keys=True)}|{device}|{protocol}"
    if key not in _LOADED:
        t0 = time.perf_counter()
        _LOADED[key] = load_encoder(model_cfg, device=device, protocol=protocol)
        log.info("loaded %s on %s in %.1f s", model_cfg.name, _LOADED[key].device, time.perf_counter() - t0)
    return _LOADED[key]


def predicted_fingerprint(model_cfg: ModelConfig, device: str, memo_dir: str | Path | None = None) -> str | None:
    """The fingerprint ``load_encoder`` reports, known without loading weights (None for an unpinned hub model:
    its commit is known only after loading). Lets a warm rerun and a worker whose shards are stored skip the load.
    ``memo_dir`` (the run's cache.dir) remembers the weights' sha256 across runs (evaluation/fingerprint.py)."""
    dtype = resolve_dtype(model_cfg.dtype, resolve_device(device))
    local = local_model_dir(model_cfg)
    if local is not None:
        return _fingerprint(_local_weights(local, memo_dir), model_cfg, dtype)
    if model_cfg.revision:
        return _fingerprint(f"{model_cfg.name}@{model_cfg.revision}", model_cfg, dtype)
    return None


def require_finite(embeddings: np.ndarray, model_cfg: ModelConfig, dtype: torch.dtype) -> np.ndarray:
    """``embeddings`` if every value is finite; NaN/inf would rank and correlate as garbage (or crash a cache)."""
    finite = np.isfinite(embeddings).all(axis=1)
    if finite.all():
        return embeddings
    bad, dtype_name = int((~finite).sum()), str(dtype).removeprefix("torch.")
    if dtype == torch.float16:
        fix = ("its activations overflow float16 (largest value 65504); rerun with model.dtype=float32 (or "
               "model.dtype=bfloat16 on a GPU that has it)")
    else:
        fix = "its weights hold NaN/inf or are broken; check the checkpoint (model.path / model.revision)"
    raise ModelOutputError(f"{model_cfg.name} produced NaN/inf embeddings for {bad} of {len(finite)} texts in "
                           f"{dtype_name}: {fix}")


def _local_weights(local: Path, memo_dir: str | Path | None = None) -> str:
    return f"sha256:{dir_fingerprint(local, memo_dir)}"


def _fingerprint(weights: str, model_cfg: ModelConfig, dtype: torch.dtype) -> str:
    """Weights + numerics (pooling, max_length, dtype): the model part of every cache and shard key."""
    dtype_name = str(dtype).removeprefix("torch.")
    return f"{weights}|pool={model_cfg.pooling}|max_length={model_cfg.max_length}|dtype={dtype_name}"


def model_dim(model_cfg: ModelConfig) -> int | None:
    """hidden_size from a local model's config.json (the embedding dim of mean/cls pooling); None if unknown."""
    local = local_model_dir(model_cfg)
    if local is None:
        return None
    dim = json.loads((local / "config.json").read_text(encoding="utf-8")).get("hidden_size")
    return int(dim) if dim is not None else None


def check_settings(model_cfg: ModelConfig, protocol: str) -> None:
    """Reject bad choices before spending minutes on loading weights."""
    st_pooling = st.st_folder(model_cfg) is not None  # sentence-transformers runs any of its pooling modes
    check_choice("protocol", protocol, PROTOCOLS)
    check_choice("model.prompt_style", model_cfg.prompt_style, PROMPT_STYLES)
    check_choice("model.pooling", model_cfg.pooling, (model_cfg.pooling,) if st_pooling else POOLINGS)


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device={device} but no CUDA device is visible; use device=cpu or device=auto")
    return dev


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """auto: fp16 on CUDA (the authors' torch_dtype=float16 + autocast), fp32 on CPU."""
    if dtype == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    if dtype not in DTYPES:
        raise ConfigError(f"model.dtype={dtype!r} is not one of auto, {', '.join(DTYPES)}")
    return DTYPES[dtype]


def local_model_dir(model_cfg: ModelConfig) -> Path | None:
    """model.path, else model.name when it is an existing dir; None = load model.name from the hub."""
    if model_cfg.path:
        path = Path(model_cfg.path).expanduser()
        if not path.is_dir():
            raise ModelLoadError(
                f"model.path={model_cfg.path} is not a directory; point it at a folder with config.json and "
                f"model.safetensors, or set model.path=null to load {model_cfg.name} from the hub"
            )
    elif Path(model_cfg.name).expanduser().is_dir():
        path = Path(model_cfg.name).expanduser()
    else:
        return None
    _check_model_dir(path)
    return path.resolve()


def _check_model_dir(path: Path) -> None:
    if not (path / "config.json").is_file():
        raise ModelLoadError(f"no config.json in {path}: not a transformers model folder")
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        raise ModelLoadError(
            f"no model.safetensors / pytorch_model.bin in {path}; copy the weights there, or set "
            f"model.path to the folder that has them"
        )
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise ModelLoadError(
            f"no tokenizer files in {path} (none of {', '.join(TOKENIZER_FILES)}); copy the tokenizer the model "
            f"was trained with into it (e.g. from its base model's hub repo), or set model.path to a complete folder"
        )


def check_tokenizer_fits(tokenizer, model, source: str) -> None:
    """Refuse a tokenizer whose ids do not index this model's word-embedding matrix one to one.

    A mismatch never crashes by itself: ids past the matrix fail only on some texts, and a much smaller vocabulary
    (a wrong or missing tokenizer) encodes every text into a few rows and scores garbage.
    """
    rows = int(model.get_input_embeddings().weight.shape[0])
    ids = max(len(tokenizer), max(tokenizer.get_vocab().values(), default=-1) + 1)
    spare = max(_SPARE_ROWS, int(rows * _SPARE_FRACTION))
    if ids > rows or rows - ids > spare:
        raise ModelLoadError(
            f"the tokenizer of {source} ({ids} token ids) does not fit the model's word embeddings ({rows} rows, "
            f"config vocab_size={getattr(model.config, 'vocab_size', '?')}): it belongs to another model; put the "
            f"tokenizer files the model was trained with next to its weights"
        )


def model_files(path: Path) -> tuple[list[Path], list[Path]]:
    """(weight files, config + tokenizer files) of a local model dir: its top-level files and those of the
    sentence-transformers modules that ``modules.json`` lists (``1_Pooling/config.json``, ``2_Dense/...``)."""
    folders = [path]
    modules = path / "modules.json"
    if modules.is_file():
        try:
            listed = json.loads(modules.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ModelLoadError(f"{modules} is not valid JSON ({e}); fix or remove it") from e
        folders += [path / m["path"] for m in listed if isinstance(m, dict) and m.get("path")]
    files = sorted({f for folder in folders if folder.is_dir() for f in folder.iterdir()
                    if f.is_file() and not f.name.startswith(".")})
    return ([f for f in files if f.suffix in _WEIGHT_SUFFIXES],
            [f for f in files if f.suffix in _CONFIG_SUFFIXES])


def dir_fingerprint(path: Path, memo_dir: str | Path | None = None) -> str:
    """sha256 (hex) over the full sha256 of every weight, config and tokenizer file of a model dir (``model_files``).

    Every byte counts: a retrain that changes only the middle of the weights changes it. The file digests are
    remembered per path + size + mtime (evaluation/fingerprint.py), so a rerun does not read the weights again.
    """
    weights, configs = model_files(path)
    return files_sha256(path, weights + configs, memo_dir)


def weights_sha256(path: Path, memo_dir: str | Path | None = None) -> str:
    """The sha256 of a model dir's weights: of its one weight file (``sha256sum model.safetensors``), else one
    digest over all of them (``files_sha256``). Compared with a config's pinned ``weights_sha256``."""
    top = [f for f in model_files(path)[0] if f.parent == path and f.name != "training_args.bin"]
    # the format transformers loads: safetensors when present (a folder may also hold the pytorch_model.bin copy)
    top = [f for f in top if f.suffix == ".safetensors"] or top
    if len(top) == 1:
        return file_sha256(top[0], memo_dir)
    return files_sha256(path, top, memo_dir)


def _from_pretrained(source: str, dtype: torch.dtype, **kwargs):
    """(model, tokenizer) with SDPA attention where the architecture has it."""
    from transformers import AutoModel, AutoTokenizer

    try:
        model = AutoModel.from_pretrained(source, dtype=dtype, attn_implementation="sdpa", **kwargs)
    except ValueError as e:
        if "sdpa" not in str(e).lower() and "scaled_dot_product" not in str(e):
            raise
        log.warning("%s has no SDPA attention (%s); using its default attention", source, e)
        model = AutoModel.from_pretrained(source, dtype=dtype, **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    check_tokenizer_fits(tokenizer, model, source)
    return model, tokenizer


def _load_from_hub(name: str, revision: str | None, dtype: torch.dtype):
    try:
        return _from_pretrained(name, dtype, revision=revision)
    except OSError as e:
        rev = revision or "main"
        download = f"download it with `hf download {name} --revision {rev} --local-dir DIR` and pass model.path=DIR"
        if is_offline_mode() or "couldn't connect" in str(e).lower():
            raise ModelLoadError(
                f"cannot reach the hub for {name} and it is not in the local Hugging Face cache; {download}"
            ) from e
        cause = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelLoadError(f"cannot load {name} (revision {rev}) from the hub: {cause}; or {download}") from e


def _commit_hash(model) -> str:
    """The snapshot commit transformers resolved (an unpinned hub load still gets a stable cache key)."""
    return getattr(model.config, "_commit_hash", None) or "unpinned"
