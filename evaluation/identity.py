"""What a result is the result of: its identity, where it is filed, and whether a stored one may be reused.

``result_identity`` is everything that changes a task's numbers: the model fingerprint (the full sha256 of the
weight, config and tokenizer files of a local dir, or the hub id at its pinned revision, with pooling, max length and
dtype), the protocol, the prompts actually put before the texts, normalisation, the retrieval depth ``top_k``, the
mteb version, and per hf_subset the data read (the sha256 of each local file; the dataset revision for hub data).
Every result JSON records it under ``me5_eval.identity``; a rerun reuses a stored result only when
``identity_differences`` finds none (evaluation/results.py ``result_is_complete``), otherwise it is recomputed and
the old file is kept under ``superseded/``. Settings that do not change the numbers (batch_size, shards, device,
cache.dir) are not part of it, so a rerun with other ones still resumes.

``filed_config``: local weights (model.path) are filed under the config's published ``revision`` only when their
sha256 equals the ``weights_sha256`` the config pins; any others under ``local-<first 12 hex of the model
fingerprint>``, so fine-tuned or quantised weights are never filed (or reported) as the published checkpoint.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

from evaluation.config import RunConfig
from evaluation.data.registry import local_files
from evaluation.fingerprint import file_sha256
from evaluation.models.loading import dir_fingerprint, local_model_dir, weights_sha256
from evaluation.models.prompts import MTEB_PROMPT_TYPED_TASK_TYPES, format_inputs, should_normalize
from evaluation.shards import shard_dtype
from evaluation.suites import TaskSpec, subtask_specs
from evaluation.task_data import data_source, local_root

log = logging.getLogger(__name__)

LOCAL_PREFIX = "local-"  # revision folders of local weights that are not the published checkpoint's
TEXT = "{text}"  # stands for the input text in the recorded prompts


def filed_revision(cfg: RunConfig) -> str | None:
    """The revision the results are filed under (see the module doc)."""
    model = cfg.model
    local = local_model_dir(model)
    if local is None:
        return model.revision
    pinned = (model.weights_sha256 or "").strip().lower()
    if pinned and weights_sha256(local, cfg.hash_memo_dir) == pinned:
        return model.revision
    revision = LOCAL_PREFIX + dir_fingerprint(local, cfg.hash_memo_dir)[:12]
    if model.revision != revision:
        why = "do not match the weights_sha256 it pins" if pinned else "are not pinned by weights_sha256"
        log.info("the weights in %s %s for %s@%s: results are filed under %s", local, why, model.name,
                 model.revision, revision)
    return revision


def filed_config(cfg: RunConfig) -> RunConfig:
    """``cfg`` with model.revision set to ``filed_revision`` (the same cfg when it already is)."""
    revision = filed_revision(cfg)
    return cfg if revision == cfg.model.revision else replace(cfg, model=replace(cfg.model, revision=revision))


def result_identity(cfg: RunConfig, spec: TaskSpec, model_fingerprint: str, dtype: str) -> dict[str, Any]:
    """The identity of ``spec``'s result under ``cfg`` with the model whose fingerprint and torch dtype are given."""
    subs = subtask_specs(spec)
    parts = subs if subs is not None else [spec]  # an aggregate (CQADupstackRetrieval) reads its subtasks' data
    data = {(s if subs is None else f"{p.name}/{s}"): _data_identity(cfg, p, s) for p in parts for s in p.subsets}
    m = cfg.model
    return {
        "model_fingerprint": model_fingerprint,
        "pooling": m.pooling,
        "max_length": m.max_length,
        "dtype": dtype.removeprefix("torch."),
        "protocol": cfg.protocol,
        "prompts": _prompts(cfg, parts[0]),
        "normalize": should_normalize(spec.task_type, m, cfg.protocol),
        "top_k": cfg.top_k if spec.is_retrieval else None,
        "shard_dtype": shard_dtype(cfg.shard_dtype, spec.name) if spec.is_retrieval else None,  # stored corpus vectors
        "mteb_version": version("mteb"),
        "data": data,
    }


def identity_differences(stored: Any, current: dict[str, Any]) -> list[str]:
    """The fields in which a stored identity differs from ``current`` (empty: the result may be reused).

    Data is compared for the subsets ``current`` asks for: a result of more subsets serves a run of fewer.
    """
    if not isinstance(stored, dict):
        return ["identity (none recorded: written before identities were)"]
    diffs = [key for key, value in current.items() if key != "data" and stored.get(key) != value]
    stored_data = stored.get("data") if isinstance(stored.get("data"), dict) else {}
    for subset, value in current["data"].items():
        old = stored_data.get(subset)
        if old != value:
            inner = _changed_keys(old, value)
            diffs += [f"data.{subset}.{k}" for k in inner] if inner else [f"data.{subset}"]
    return diffs


def _changed_keys(old: Any, new: Any) -> list[str]:
    """The files (roles) whose digest changed, when both sides list files."""
    if not (isinstance(old, dict) and isinstance(new, dict) and "files" in old and "files" in new):
        return []
    a, b = old["files"], new["files"]
    return sorted(k for k in {*a, *b} if a.get(k) != b.get(k))


def corpus_digest(cfg: RunConfig, spec: TaskSpec, subset: str) -> str | None:
    """What a retrieval subset's corpus is (part of its shard key): the sha256 of its local file, the hub dataset
    revision, or None when the local corpus file is absent (loading it then fails with its own message)."""
    root, override = local_root(cfg, spec.name)
    if root is None:
        return data_source(cfg, spec)
    corpus = local_files(spec.name, subset, spec.split, root, override, optional_ok=True).get("corpus")
    return f"sha256:{file_sha256(corpus, cfg.hash_memo_dir)}" if corpus is not None and corpus.is_file() else None


def _data_identity(cfg: RunConfig, spec: TaskSpec, subset: str) -> dict[str, Any]:
    """{"files": {role: sha256}} of the local files a subset reads, or {"source": "hub:<path>@<revision>"}."""
    root, override = local_root(cfg, spec.name)
    if root is None:
        return {"source": data_source(cfg, spec)}
    files: dict[str, str] = {}
    for role, path in local_files(spec.name, subset, spec.split, root, override, optional_ok=True).items():
        if path.is_dir():  # an STS year's folder: every file in it
            for f in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
                files[f"{role}/{f.relative_to(path).as_posix()}"] = file_sha256(f, cfg.hash_memo_dir)
        else:
            files[role] = file_sha256(Path(path), cfg.hash_memo_dir)
    return {"files": files}


def _prompts(cfg: RunConfig, spec: TaskSpec) -> dict[str, str]:
    """The input each role gets, ``{text}`` standing for the text (e.g. {"query": "query: {text}", ...})."""
    roles = ("query", "document") if spec.task_type in MTEB_PROMPT_TYPED_TASK_TYPES else (None,)
    return {role or "symmetric": format_inputs([TEXT], role=role, task_name=spec.name, task_type=spec.task_type,
                                               model_cfg=cfg.model, protocol=cfg.protocol)[0] for role in roles}
