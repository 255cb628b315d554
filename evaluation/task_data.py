"""Where a task's data comes from: local files (data.root / data.paths) or mteb's hub loaders.

This module makes the local-or-hub decision (``local_root``) and is the one place that acts on it: a task object
with its data attached for mteb's evaluators (``task_with_data``), one subset's retrieval data
(``retrieval_subset``), the local corpus file a sweep worker reads its shard from (``local_corpus_file``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evaluation.config import RunConfig
from evaluation.data.mteb_dataset import attach_local_data
from evaluation.data.registry import has_local_source, jsonl_corpus, load_local, local_base, local_subsets
from evaluation.data.types import Corpus, RetrievalData
from evaluation.errors import DataError
from evaluation.suites import TREC_SUITES, TaskSpec, fresh_task, mteb_task


def local_root(cfg: RunConfig, task_name: str) -> tuple[Path | None, str | None]:
    """(root, override) when the task runs from local files, (None, None) when it loads from the hub.

    A task whose folder is absent under data.root (you have no local copy) goes to the hub; a folder that
    exists but lacks a file is a broken copy and fails loudly in the loader. An explicit data.paths.<Task>
    is always local.
    """
    override = cfg.data.paths.get(task_name)
    if not has_local_source(task_name) or (cfg.data.root is None and override is None):
        return None, None
    root = Path(cfg.data.root) if cfg.data.root else Path(override)
    if override is None and not _has_local_copy(task_name, root):
        return None, None
    return root, override


def _has_local_copy(task_name: str, root: Path) -> bool:
    if local_base(task_name, root).exists():
        return True
    # MIRACL / Mr.TyDi topics + qrels ship apart from their (huge) corpora: those alone make a local copy
    return task_name in TREC_SUITES and bool(local_subsets(task_name, root))


def hub_hint(cfg: RunConfig, task_name: str) -> str:
    if cfg.data.root and has_local_source(task_name):
        return f"no local copy at {local_base(task_name, Path(cfg.data.root))}"
    return "no local loader for this task" if cfg.data.root else "data.root is not set"


def uses_local_data(cfg: RunConfig, task_name: str) -> bool:
    return local_root(cfg, task_name)[0] is not None


def load_subset(cfg: RunConfig, spec: TaskSpec, subset: str, lazy_corpus: bool = False) -> Any:
    root, override = local_root(cfg, spec.name)
    return load_local(spec.name, subset, spec.split, root, override, lazy_corpus)


def data_source(cfg: RunConfig, spec: TaskSpec) -> str:
    root, override = local_root(cfg, spec.name)
    if root is None:
        ds = mteb_task(spec.name).metadata.dataset
        return f"hub:{ds.get('path')}@{ds.get('revision')}"
    return f"local:{Path(override or root).resolve()}"


def load_from_hub(task, why: str = "") -> None:
    """mteb's own loader; offline it fails deep inside `datasets` — say what to do instead."""
    try:
        task.load_data()
    except (OSError, ConnectionError, ValueError) as err:
        name, first = task.metadata.name, (str(err).splitlines() or [""])[0][:200]
        raise DataError(
            f"{name}: could not load {task.metadata.dataset.get('path')} from the hub ({type(err).__name__}: {first}). "
            f"({why}) Offline, point data.root (or data.paths.{name}) at local files."
        ) from err


def task_with_data(cfg: RunConfig, spec: TaskSpec):
    """A fresh mteb task holding the spec's subsets: our local files attached, else loaded by mteb from the hub."""
    task = fresh_task(spec.name)
    if uses_local_data(cfg, spec.name):
        return attach_local_data(task, {s: load_subset(cfg, spec, s) for s in spec.subsets}, spec.split)
    task.hf_subsets = list(spec.subsets)
    load_from_hub(task, hub_hint(cfg, spec.name))
    return task


def retrieval_subset(cfg: RunConfig, spec: TaskSpec, subset: str, hub_tasks: dict[str, Any], *,
                     lazy_corpus: bool = False) -> RetrievalData:
    """One subset's retrieval data from local files (``lazy_corpus``: ids only, texts read per shard window), else
    from mteb's hub copy, loaded once per task into ``hub_tasks`` (task name -> mteb task)."""
    if uses_local_data(cfg, spec.name):
        return load_subset(cfg, spec, subset, lazy_corpus=lazy_corpus)
    if spec.name not in hub_tasks:
        hub_tasks[spec.name] = task_with_data(cfg, spec)
    return retrieval_data_from_mteb(hub_tasks[spec.name], subset, spec.split)


def retrieval_data_from_mteb(task, subset: str, split: str) -> RetrievalData:
    """mteb's RetrievalSplitData (HF datasets) -> our plain RetrievalData."""
    split_data = task.dataset[subset][split]
    corpus = split_data["corpus"]
    titles = corpus["title"] if "title" in corpus.column_names else [""] * len(corpus)
    queries = {str(q): t for q, t in zip(split_data["queries"]["id"], split_data["queries"]["text"], strict=True)}
    qrels = {str(q): {str(d): int(s) for d, s in docs.items()} for q, docs in split_data["relevant_docs"].items()}
    queries = {q: t for q, t in queries.items() if q in qrels}
    return RetrievalData(Corpus([str(i) for i in corpus["id"]], list(titles), list(corpus["text"])), queries, qrels)


def local_corpus_file(cfg: RunConfig, spec: TaskSpec, subset: str) -> tuple[Path, str] | None:
    """(corpus JSONL file, id key) when the task reads one local JSONL corpus (BEIR ``_id``, MIRACL / Mr.TyDi
    ``docid``): a sweep worker reads its shard's window of it. None for hub data and other layouts."""
    root, override = local_root(cfg, spec.name)
    if root is None:
        return None
    return jsonl_corpus(spec.name, subset, spec.split, root, override)
