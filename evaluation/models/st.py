"""Sentence-transformers checkpoints: a folder with modules.json is encoded as sentence-transformers encodes it.

`SentenceTransformer(dir)` itself runs the checkpoint's modules (Transformer -> Pooling -> Dense -> Normalize), so
its pooling mode, Dense layers, Normalize module and max_seq_length hold by construction; around it we keep our
embedding cache, dedupe, fp16 + autocast on CUDA, the finite check (models/lazy.py) and progress. Its prompts
(config_sentence_transformers.json) become ``prompt_style=named``: prepended as text before the cache, resolved as
mteb resolves a SentenceTransformer's prompts (models/prompts.py). Prepending equals sentence-transformers' own
``prompt=`` unless the Pooling module leaves the prompt's tokens out (include_prompt=false): refused.

``model.pipeline=transformers`` ignores modules.json and encodes with model.pooling / normalize / max_length and the
config's prefixes (the authors' protocol for mE5): the mE5 configs set it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from evaluation.config import ModelConfig
from evaluation.errors import ConfigError, ModelLoadError
from evaluation.models.encoder import _dedupe, check_dim, cuda_autocast
from evaluation.validation import PIPELINES, check_choice

log = logging.getLogger(__name__)

ST_PIPELINE = "sentence-transformers"
# Module classes whose output depends on the text alone; anything else (Router: query/document routes, custom
# code, static embeddings, ...) is refused rather than approximated.
SUPPORTED_MODULES = ("Transformer", "Pooling", "Dense", "Normalize", "LayerNorm", "Dropout")
_LEGACY_POOLING = {  # sentence-transformers < 5 wrote one boolean per mode
    "pooling_mode_cls_token": "cls", "pooling_mode_mean_tokens": "mean", "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}
_PIECE_BATCHES = 16  # batches per encode call: the progress bar moves, sentence-transformers still length-sorts


@dataclass(frozen=True)
class Checkpoint:
    """What a sentence-transformers folder says about encoding (read from its JSON files, no weights)."""

    folder: Path
    modules: list[str]  # module class names in order
    pooling: str  # "cls", "mean", ... ("+"-joined for several modes)
    normalize: bool
    max_seq_length: int
    dim: int
    prompts: dict[str, str] = field(default_factory=dict)
    default_prompt_name: str | None = None


def st_folder(model_cfg: ModelConfig) -> Path | None:
    """The local sentence-transformers folder this config encodes with sentence-transformers, else None."""
    check_choice("model.pipeline", model_cfg.pipeline, PIPELINES)
    if model_cfg.pipeline == "transformers":
        return None
    raw = model_cfg.path or model_cfg.name
    folder = Path(raw).expanduser() if raw else None
    if folder is not None and (folder / "modules.json").is_file():
        return folder.resolve()
    if model_cfg.pipeline == ST_PIPELINE:
        raise ConfigError(f"model.pipeline=sentence-transformers needs a local folder with modules.json, and {raw} "
                          "has none; point model.path at the checkpoint folder, or set model.pipeline=auto")
    return None


def resolve(model_cfg: ModelConfig) -> ModelConfig:
    """The config with the checkpoint's own pooling, normalisation, max length, dim and prompts when it is encoded
    by sentence-transformers; unchanged otherwise. Idempotent."""
    folder = st_folder(model_cfg)
    if folder is None:
        return model_cfg
    ck = read_checkpoint(folder)
    check_dim(ck.dim, model_cfg)
    resolved = replace(model_cfg, pipeline=ST_PIPELINE, pooling=ck.pooling, normalize=ck.normalize,
                       normalize_classification=True, max_length=ck.max_seq_length, dim=ck.dim,
                       prompt_style="named", prompts=dict(ck.prompts), default_prompt_name=ck.default_prompt_name)
    if resolved != model_cfg:
        log.info("%s is a sentence-transformers checkpoint (%s): encoded as sentence-transformers does (pooling=%s, "
                 "normalize=%s, max_seq_length=%d, prompts=%s); model.pipeline=transformers uses the model config's "
                 "settings instead", folder, " -> ".join(ck.modules), ck.pooling, ck.normalize, ck.max_seq_length,
                 sorted(ck.prompts) or "none")
    return resolved


def read_checkpoint(folder: Path) -> Checkpoint:
    """Its modules (refusing the ones we cannot honour), pooling mode, Normalize, max_seq_length, dim, prompts."""
    entries = _json(folder / "modules.json")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{folder}/modules.json lists no modules; re-save the model with sentence-transformers")
    names = [_module_class(folder, e) for e in entries]
    if names[0] != "Transformer":
        raise ConfigError(f"{folder}/modules.json starts with {names[0]}, not a Transformer module: not supported; "
                          "evaluate it with mteb directly or pass it to evaluation.evaluate()")
    transformer_dir = folder / entries[0].get("path", "")
    dim = _hidden_size(folder, transformer_dir)
    pooling, include_prompt = "cls", True
    for entry, name in zip(entries, names, strict=True):
        config = _module_config(folder / entry.get("path", ""), required=name in ("Pooling", "Dense"))
        if name == "Pooling":
            modes = _pooling_modes(config)
            pooling, include_prompt = "+".join(modes), bool(config.get("include_prompt", True))
            dim = int(config.get("embedding_dimension", config.get("word_embedding_dimension", dim))) * len(modes)
        elif name == "Dense":
            dim = int(config["out_features"])
    st_config = _json(folder / "config_sentence_transformers.json", {})
    prompts = {k: v for k, v in (st_config.get("prompts") or {}).items() if v}
    if prompts and not include_prompt:
        raise ConfigError(f"{folder}: its Pooling module leaves prompt tokens out (include_prompt=false), which "
                          "text prompts cannot reproduce; evaluate it with "
                          "evaluation.evaluate(SentenceTransformer(...))")
    return Checkpoint(folder, names, pooling, "Normalize" in names, _max_seq_length(folder, transformer_dir), dim,
                      prompts, st_config.get("default_prompt_name"))


def check_hub_checkpoint(model_cfg: ModelConfig, revision: str | None) -> None:
    """A hub id is encoded by our encoder with the model config's settings (models/loading.py). If the repo is a
    sentence-transformers checkpoint whose pipeline those settings do not reproduce (another pooling, a Dense module,
    Normalize, max_seq_length), refuse: encoding it otherwise would be silently wrong."""
    if model_cfg.pipeline == "transformers":
        return
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError, RemoteEntryNotFoundError

    def fetch(filename: str) -> Path | None:
        try:
            return Path(hf_hub_download(model_cfg.name, filename, revision=revision))
        except RemoteEntryNotFoundError:
            return None

    try:
        modules = fetch("modules.json")
        if modules is None:
            return  # a plain transformers repo: the model config's settings are the only pipeline there is
        for entry in _json(modules):
            if entry.get("path"):
                fetch(f"{entry['path']}/config.json")
        for name in ("sentence_bert_config.json", "config_sentence_transformers.json"):
            fetch(name)
    except (LocalEntryNotFoundError, OSError) as e:  # offline and not cached, or the hub unreachable
        log.warning("cannot check whether %s is a sentence-transformers checkpoint (%s); it is encoded with "
                    "model.pooling=%s, model.normalize=%s", model_cfg.name, type(e).__name__, model_cfg.pooling,
                    model_cfg.normalize)
        return
    ck = read_checkpoint(modules.parent)
    differs = [f"{what} {theirs} (config: {ours})" for what, theirs, ours in (
        ("pooling", ck.pooling, model_cfg.pooling), ("Normalize", ck.normalize, model_cfg.normalize),
        ("max_seq_length", ck.max_seq_length, model_cfg.max_length),
        ("Dense", "Dense" in ck.modules, False)) if theirs != ours]
    if differs:
        raise ConfigError(f"{model_cfg.name} is a sentence-transformers checkpoint with {', '.join(differs)}; "
                          f"download it (hf download {model_cfg.name} --local-dir DIR) and pass model.path=DIR to "
                          "encode it as sentence-transformers does, or set model.pipeline=transformers to use the "
                          "model config's settings")


def load_sentence_transformer(folder: Path, device, dtype):
    """SentenceTransformer(folder) on ``device`` in ``dtype``, local files only."""
    from sentence_transformers import SentenceTransformer  # deferred: heavy, and only this pipeline needs it

    try:
        model = SentenceTransformer(str(folder), device=str(device), local_files_only=True,
                                    model_kwargs={"dtype": dtype})
    except (OSError, ValueError, KeyError) as e:
        raise ModelLoadError(f"sentence-transformers cannot load {folder}: {str(e).strip().splitlines()[0]}; "
                             "re-save the checkpoint, or set model.pipeline=transformers") from e
    model.default_prompt_name = None  # prompts are applied as text before our cache (prompt_style=named)
    return model.eval()


class StEncoder:
    """Encodes final input texts with a SentenceTransformer: the E5Encoder interface (`encode_formatted`)."""

    def __init__(self, model, model_cfg: ModelConfig, *, device, dtype, protocol: str, fingerprint: str):
        if model.max_seq_length != model_cfg.max_length:  # resolve() read it from the same files
            raise ModelLoadError(f"{model_cfg.name}: sentence-transformers truncates at {model.max_seq_length} tokens "
                                 f"but the config says model.max_length={model_cfg.max_length}")
        self.model, self.tokenizer, self.cfg = model, model.tokenizer, model_cfg
        self.device, self.dtype, self.protocol = device, dtype, protocol
        self.dim = check_dim(int(model.get_embedding_dimension()), model_cfg)
        self._fingerprint = fingerprint
        self.last_stats: dict[str, float] = {}

    def encode_formatted(self, texts: Sequence[str], *, normalize: bool, batch_size: int = 64,
                         show_progress: bool = True, block_rows: int | None = None) -> np.ndarray:
        """Embeddings of texts as given. normalize=True L2-normalises (a Normalize module already does).
        block_rows=N (a corpus shard, which starts on a block boundary): every text, one sentence-transformers call
        per block of N (it sorts and batches each call by length), so 1, 2 or 64 shards run the same batches."""
        from tqdm.auto import tqdm  # deferred with the rest of the encoder stack

        if block_rows is None:
            unique, inverse = _dedupe(texts)
            order = np.argsort([-len(t) for t in unique], kind="stable")
            step = batch_size * _PIECE_BATCHES
            pieces = [order[i:i + step] for i in range(0, len(order), step)]
        else:
            unique, inverse = list(texts), None  # TextBlocks (a shard read while encoding) are read here
            pieces = [np.arange(s, min(s + block_rows, len(unique))) for s in range(0, len(unique), block_rows)]
        out = np.zeros((len(unique), self.dim), np.float32)
        with tqdm(total=len(unique), unit="text", desc="encoding", disable=not show_progress) as bar:
            for piece in pieces:
                with self._autocast():
                    emb = self.model.encode([unique[i] for i in piece], batch_size=batch_size, convert_to_numpy=True,
                                            show_progress_bar=False, normalize_embeddings=normalize)
                out[piece] = np.asarray(emb, dtype=np.float32)
                bar.update(len(piece))
        self.last_stats = dict(texts=len(texts), unique=len(unique))
        return out if inverse is None else out[inverse]

    def _autocast(self):
        return cuda_autocast(self.device, self.dtype)

    def model_fingerprint(self) -> str:
        return self._fingerprint


def _json(path: Path, default=None):
    if not path.is_file():
        if default is not None:
            return default
        raise ConfigError(f"{path} is missing; the sentence-transformers checkpoint is incomplete")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not valid JSON ({e}); restore it from the original checkpoint") from e


def _module_class(folder: Path, entry: dict) -> str:
    kind = str(entry.get("type", ""))
    name = kind.rsplit(".", 1)[-1]
    if not kind.startswith("sentence_transformers.") or name not in SUPPORTED_MODULES:
        raise ConfigError(f"{folder}/modules.json: module {kind!r} ({entry.get('path', '')}) is not supported "
                          f"(supported: {', '.join(SUPPORTED_MODULES)}); evaluate the model with "
                          "evaluation.evaluate(SentenceTransformer(...)), or set model.pipeline=transformers to "
                          "use model.pooling / model.normalize on the bare transformer")
    return name


def _module_config(path: Path, required: bool) -> dict:
    """A module folder's config.json; a Pooling or Dense module without one is an incomplete checkpoint (reading
    it as the default mean pooling is the silent substitution this module exists to prevent)."""
    if required:
        return _json(path / "config.json")
    return _json(path / "config.json", {}) if path.is_dir() else {}


def _pooling_modes(config: dict) -> list[str]:
    mode = config.get("pooling_mode")
    if mode:
        return [mode] if isinstance(mode, str) else list(mode)
    modes = [name for key, name in _LEGACY_POOLING.items() if config.get(key)]
    return modes or ["mean"]


def _hidden_size(folder: Path, transformer_dir: Path) -> int:
    config = _json(transformer_dir / "config.json", {}) or _json(folder / "config.json")
    return int(config.get("hidden_size") or config.get("d_model") or 0)


def _max_seq_length(folder: Path, transformer_dir: Path) -> int:
    """sentence_bert_config.json's max_seq_length; without it, what sentence-transformers falls back to."""
    st = _json(transformer_dir / "sentence_bert_config.json", {})
    if st.get("max_seq_length"):
        return int(st["max_seq_length"])
    limits = [_json(transformer_dir / "tokenizer_config.json", {}).get("model_max_length"),
              _json(transformer_dir / "config.json", {}).get("max_position_embeddings")]
    limits = [int(x) for x in limits if isinstance(x, int | float) and x < 1e9]
    if not limits:
        raise ConfigError(f"{folder}: no max_seq_length in sentence_bert_config.json and no model_max_length; "
                          "add max_seq_length there")
    return min(limits)
