"""Retrieval: encode queries + corpus shards, exact top-k search, TREC run, metrics.

We run retrieval ourselves instead of through mteb's evaluator because mteb cannot shard a corpus (its issue
#27) or resume mid-corpus; the metrics still come from mteb's functions (or pytrec_eval with trec_eval's flags
for MIRACL / Mr.TyDi), so the numbers equal mteb's by construction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from evaluation.data.types import Corpus, RetrievalData, require_documents
from evaluation.encode import TextEmbedder
from evaluation.errors import DataError, resource_errors
from evaluation.identity import corpus_digest
from evaluation.models.batching import TextBlocks
from evaluation.models.prompts import format_inputs, join_title_text, mteb_join_title_text
from evaluation.scoring import (
    metric_depth,
    mteb_retrieval_scores,
    score_run,
    supported_scores,
    trec_retrieval_scores,
)
from evaluation.search import exact_topk, run_from_topk
from evaluation.shards import ShardKey, load_shard, shard_dtype, write_shard
from evaluation.suites import TREC_SUITES, TaskSpec, ignores_identical_ids

log = logging.getLogger(__name__)

MTEB_SEARCH_DEPTH = 1000  # mteb's k_values go to 1000; searching less would change recall_at_1000 / map


def corpus_inputs(corpus: Corpus, task_name: str, start: int = 0, end: int | None = None) -> list[str]:
    """Document texts: the authors' title+text join for MIRACL / Mr.TyDi, mteb's for mteb tasks."""
    return document_texts(corpus.window(start, len(corpus) if end is None else end), task_name)


def document_texts(part: Corpus, task_name: str, prompt: str = "") -> list[str]:
    """The final input texts of ``part``'s documents: prompt + title/text join (see corpus_inputs)."""
    join = join_title_text if task_name in TREC_SUITES else mteb_join_title_text
    return [prompt + join(title, text) for title, text in zip(part.titles, part.texts, strict=True)]


def shard_key(embedder: TextEmbedder, spec: TaskSpec, subset: str, n_docs: int, n_shards: int) -> ShardKey:
    cfg = embedder.cfg
    probe = embedder_prompt(embedder, spec)
    return ShardKey(model_fingerprint=embedder.fingerprint, protocol=cfg.protocol, prompt=probe,
                    max_length=cfg.model.max_length, normalize=True, task=spec.name, subset=subset,
                    split=spec.split, block_rows=cfg.block_rows, n_docs=n_docs, n_shards=n_shards,
                    corpus=corpus_digest(cfg, spec, subset), dtype=shard_dtype(cfg.shard_dtype, spec.name))


def search_depth(spec: TaskSpec, top_k: int) -> int:
    """Documents searched per query: top_k for MIRACL / Mr.TyDi (trec_eval -M), else at least mteb's 1000."""
    return top_k if spec.name in TREC_SUITES else max(top_k, MTEB_SEARCH_DEPTH)


def embedder_prompt(embedder: TextEmbedder, spec: TaskSpec) -> str:
    """The exact prefix documents get (formatting an empty text reveals it)."""
    return format_inputs([""], role="document", task_name=spec.name, task_type=spec.task_type,
                         model_cfg=embedder.cfg.model, protocol=embedder.cfg.protocol)[0]


def encode_shard(embedder: TextEmbedder, spec: TaskSpec, subset: str, corpus: Corpus, key: ShardKey,
                 index: int, root: Path) -> np.ndarray:
    """The shard's embeddings: from its verified file, or encoded now and stored (key.dtype, manifest)."""
    rng = key.range(index)
    stored = load_shard(root, key, index, corpus.ids[rng.start:rng.end])
    if stored is not None:
        return stored
    part = corpus.window(rng.start, rng.end)
    blocks = (part.window(s, s + key.block_rows) for s in range(0, rng.size, key.block_rows))
    return encode_documents(embedder, spec, subset, key, index, root, blocks)


def encode_documents(embedder: TextEmbedder, spec: TaskSpec, subset: str, key: ShardKey, index: int, root: Path,
                     blocks: Iterable[Corpus]) -> np.ndarray:
    """Encode shard ``index``'s documents, given in blocks of ``key.block_rows`` (a worker reads them from the file
    while the model encodes the blocks before), store the shard and return it as verified on load."""
    rng = key.range(index)
    log.info("%s/%s: encoding corpus shard %d/%d (%d docs)", spec.name, subset, index + 1, key.n_shards, rng.size)
    ids: list[str] = []

    def texts() -> Iterator[list[str]]:
        for part in blocks:
            ids.extend(part.ids)
            yield document_texts(part, spec.name, key.prompt)

    # out of GPU memory / host memory / disk -> Me5EvalError naming batch_size= / shards= / cache.dir=
    with resource_errors(embedder.cfg, f"encoding {spec.name}/{subset} shard {index + 1}/{key.n_shards}"):
        # batched per block: the same vectors for 1, 2 or 64 shards
        emb = embedder.embed_corpus(TextBlocks(rng.size, key.block_rows, texts()), task_name=spec.name,
                                    task_type=spec.task_type, hf_split=spec.split, hf_subset=subset,
                                    block_rows=key.block_rows)
        write_shard(root, key, index, ids, emb)
    return load_shard(root, key, index, ids)


def check_retrieval_data(spec: TaskSpec, subset: str, data: RetrievalData) -> None:
    require_documents(len(data.corpus), f"{spec.name}/{subset}")
    if not data.queries:
        raise DataError(f"{spec.name}/{subset}: no queries with relevance judgements in split {spec.split}")


def retrieve(embedder: TextEmbedder, spec: TaskSpec, subset: str, data: RetrievalData, *, n_shards: int,
             shard_root: Path, top_k: int, chunk_bytes: int) -> dict[str, dict[str, float]]:
    check_retrieval_data(spec, subset, data)
    key = shard_key(embedder, spec, subset, len(data.corpus), n_shards)
    shards = []
    for i in range(n_shards):
        rng = key.range(i)
        shards.append((encode_shard(embedder, spec, subset, data.corpus, key, i, shard_root),
                       data.corpus.ids[rng.start:rng.end]))
    qids = list(data.queries)
    q_emb = embedder.embed([data.queries[q] for q in qids], role="query", task_name=spec.name,
                           task_type=spec.task_type, hf_split=spec.split, hf_subset=subset)
    scores, docids = exact_topk(q_emb.astype(np.float32), shards, k=search_depth(spec, top_k), chunk_bytes=chunk_bytes,
                                device=embedder.cfg.device)  # on the GPU when present, else faiss on CPU
    return run_from_topk(qids, scores, docids)


def score_retrieval(spec: TaskSpec, run: dict, qrels: dict, depth: int) -> tuple[dict, dict[str, dict[str, float]]]:
    """The result's scores and per-query rows of a run ``depth`` documents deep: metrics deeper than the run
    (MIRACL's recall_at_1000 of a 100-deep run) are not stored (one log line says which)."""
    if spec.name in TREC_SUITES:
        suite = TREC_SUITES[spec.name]
        _, per_query = score_run(run, qrels, suite, per_query=True)
        scores = trec_retrieval_scores(run, qrels, suite)
    else:
        _, per_query = score_run(run, qrels, "beir", per_query=True)
        scores = mteb_retrieval_scores(run, qrels, ignore_identical_ids=ignores_identical_ids(spec.name))
    kept = supported_scores(scores, depth)
    if len(kept) < len(scores):
        deepest = max(metric_depth(k) for k in scores)
        log.info("%s: the run is %d documents deep (top_k=%d), so metrics at K > %d (up to K=%d, %d keys) are not "
                 "stored; top_k=%d stores them", spec.name, depth, depth, depth, deepest, len(scores) - len(kept),
                 deepest)
    return kept, {q: supported_scores(row, depth) for q, row in per_query.items()}
