"""Every setting is checked before any work: values when the config is composed (``check_values``, called by
``RunConfig``), the folders a run writes before anything is loaded (``check_writable``), and the retrieval depth
against the metrics a run stores (``check_depth``).

Each failure is one ``ConfigError`` / ``UnwritableError`` line that names the setting, its valid range and the fix;
the CLI prints it and exits 2. No torch or mteb here: ``me5-eval plan`` and the sweep's worker app use it too.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from evaluation.atomic import unwritable_error
from evaluation.errors import ConfigError

DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")  # what torch.device takes for the devices a run can use
SHARD_DTYPES = ("auto", "float32", "float16")  # auto: float16 for MIRACL / Mr.TyDi, float32 for every other task
# model_type -> position ids taken before the first token (RoBERTa-style models start at padding_idx + 1 = 2, so
# XLM-R's 514 positions hold 512 tokens; BERT's 512 hold 512)
_POSITION_OFFSET = {"xlm-roberta": 2, "roberta": 2, "camembert": 2}


# The choice settings (one place: the encoder stack imports them from here; checked when a config is composed)
PROTOCOLS = ("paper", "mteb")
PROMPT_STYLES = ("query_passage", "instruction", "none", "named")
POOLINGS = ("mean", "cls")
PIPELINES = ("auto", "sentence-transformers", "transformers")


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(choices)}")


def _at_least(name: str, value: Any, low: int, fix: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{name}={value!r} is out of range: it must be an integer >= {low} ({fix})")


def check_values(cfg: Any) -> None:
    """The numeric and choice settings of a RunConfig, before anything runs (``cfg``: a RunConfig; untyped so
    that config.py can call this without an import circle)."""
    _at_least("shards", cfg.shards, 1, "corpus shards per retrieval task; 1 = no sharding")
    _at_least("top_k", cfg.top_k, 1, "documents kept per query; 100 = the paper's trec_eval -M 100")
    _at_least("batch_size", cfg.batch_size, 1, "texts per forward pass, e.g. batch_size=64")
    _at_least("search_chunk_mb", cfg.search_chunk_mb, 1, "memory budget of one search block, e.g. 512")
    _at_least("block_rows", cfg.block_rows, 1, "corpus passages sorted and batched together, e.g. 16384")
    if cfg.shard_index is not None and (isinstance(cfg.shard_index, bool) or not isinstance(cfg.shard_index, int)
                                        or not 0 <= cfg.shard_index < cfg.shards):
        raise ConfigError(f"shard_index={cfg.shard_index!r} is out of range: it must be one of 0..{cfg.shards - 1} "
                          f"(shards={cfg.shards}); a sweep sets it per worker job")
    if not isinstance(cfg.device, str) or not DEVICE.fullmatch(cfg.device):
        raise ConfigError(f"device={cfg.device!r} is not a device: give auto, cpu, cuda or cuda:N (N: a GPU index)")
    check_choice("shard_dtype", cfg.shard_dtype, SHARD_DTYPES)
    check_choice("protocol", cfg.protocol, PROTOCOLS)
    if _is_set(cfg.model):
        check_model_values(cfg.model)


def _is_set(node: Any) -> bool:
    return node is not None and not isinstance(node, str)  # a structured config leaves "???" for a MISSING node


def check_model_values(model: Any) -> None:
    check_choice("model.pipeline", model.pipeline, PIPELINES)
    check_choice("model.prompt_style", model.prompt_style, PROMPT_STYLES)
    if not _sentence_transformers(model):  # sentence-transformers brings its own pooling module (any of its modes)
        check_choice("model.pooling", model.pooling, POOLINGS)
    if model.dim is not None:
        _at_least("model.dim", model.dim, 1, "the embedding size, or model.dim=null to take it from the weights")
    limit = position_limit(model.path)
    high = f" and <= {limit} (the positions of {model.path})" if limit else ""
    if isinstance(model.max_length, bool) or not isinstance(model.max_length, int) or model.max_length < 1 or (
            limit is not None and model.max_length > limit):
        raise ConfigError(f"model.max_length={model.max_length!r} is out of range: it must be an integer >= 1{high}; "
                          f"the mE5 models take 512")


def _sentence_transformers(model: Any) -> bool:
    """Whether the checkpoint is encoded by sentence-transformers (evaluation/models/st.py, st_folder)."""
    if model.pipeline != "auto":
        return model.pipeline == "sentence-transformers"
    raw = model.path or model.name
    return bool(raw) and Path(raw).expanduser().joinpath("modules.json").is_file()


def position_limit(path: str | None) -> int | None:
    """The most tokens a local model takes (config.json ``max_position_embeddings`` less the positions RoBERTa-style
    models skip); None when there is no local config.json to read (a hub model: checked when it loads)."""
    config = Path(path).expanduser() / "config.json" if path else None
    if config is None or not config.is_file():
        return None
    try:
        raw = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # the model loader reports an unreadable config.json with its own message
    positions = raw.get("max_position_embeddings") if isinstance(raw, dict) else None
    if not isinstance(positions, int):
        return None
    return positions - _POSITION_OFFSET.get(raw.get("model_type"), 0)


def probe_writable(folder: str | Path, setting: str) -> None:
    """Create ``folder`` (and its parents) and write, then remove, a small file in it: a read-only folder, a file
    where the folder should be or a full disk fails now, before any model is loaded. Folders made here are
    removed again when empty, so a run that fails later leaves no empty tree behind."""
    folder = Path(folder)
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    probe = folder / f".me5-eval-probe-{secrets.token_hex(4)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            os.write(fd, b"probe\n")
            os.fsync(fd)
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
    except OSError as e:
        error = unwritable_error(folder, e)
        if error is None:
            raise
        raise type(error)(f"{setting}={folder}: {error}") from e
    for path in made:  # deepest first
        try:
            path.rmdir()
        except OSError:
            break  # another process wrote into it meanwhile: it is in use, leave it (and its parents)


def check_writable(cfg: Any, needs_cache: bool) -> None:
    """output.dir, and cache.dir when the run writes there (embedding cache, corpus shards, sweep files)."""
    probe_writable(cfg.output.dir, "output.dir")
    if needs_cache:
        probe_writable(cfg.cache.dir, "cache.dir")


def check_depth(top_k: int, main_scores: Iterable[tuple[str, str, int]]) -> None:
    """``main_scores``: (task, metric, depth it needs) of the tasks whose search stops at top_k (MIRACL, Mr.TyDi):
    a run shallower than its main score cannot score it."""
    for task, metric, needed in main_scores:
        if top_k < needed:
            raise ConfigError(f"top_k={top_k} is shallower than {task}'s main score {metric}: set top_k>={needed} "
                              f"(top_k=100 stores every metric of the paper)")
