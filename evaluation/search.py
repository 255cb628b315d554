"""Exact inner-product top-k over sharded corpora, in memory bounded by a byte budget, not by corpus size.

The corpus is read block by block (fp16 memmapped shards are converted to float32 one block at a time), each
block is scored against a block of queries, and a running top-k per query is merged. Peak memory is about
``chunk_bytes`` (the float32 block + the source pages it came from + the [queries x rows] scores, or faiss's
fixed 16 MiB tile) + the queries + the running top-k (nq x k). Pages of a memmapped shard are released from
the process after each block (``madvise(DONTNEED)``; they stay in the page cache), so the resident set does
not grow with the shard size.

Ties: the order is trec_eval's, score descending then docid descending (string order). At the k boundary the
same rule decides, so the result is deterministic: among equal scores the larger docid is kept. Each block is
asked for k+1 candidates; only a query whose k-th and (k+1)-th scores are equal takes a slow exact path.

Backends: faiss.knn, torch (matmul + topk) or numpy (matmul + argpartition); ``auto`` is torch on the GPU when one
is present (``device``: each block is copied as stored, fp16, converted to float32 and scored there, the score
matrix never leaves the device; float32 matmul without TF32, so exact), else faiss, the fastest of the three on CPU,
with fp16 blocks converted to float32 with torch, much faster than numpy's cast (measurements:
reports/bench/README.md, section 3). With faiss, a query whose boundary tie needs the slow path is re-scored over
the block with numpy, so its scores may differ from faiss's in the last float32 bit. On shared cores, set
OMP_WAIT_POLICY=PASSIVE before torch/faiss load: OpenMP threads spinning at faiss's barriers slow every block.
"""

from __future__ import annotations

import mmap
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import faiss
import numpy as np
import torch

from evaluation.trec_io import trec_order

BACKENDS = ("auto", "torch", "faiss", "numpy")
FAISS_TILE_BYTES = 16 << 20  # faiss.knn scores 4096 queries x 1024 rows at a time (float32)
FAISS_MAX_QUERIES = 8192  # bounds faiss's [queries x (k+1)] result heaps; faiss tiles by 4096 queries anyway
MIN_BLOCK_ROWS = 16384  # below this, GEMMs get inefficient: rather split the queries


def exact_topk(
    queries: np.ndarray,
    shards: Iterable[tuple[np.ndarray, Sequence[str]]],
    k: int,
    chunk_bytes: int,
    backend: str = "auto",
    device: str | None = None,
) -> tuple[np.ndarray, list[list[str]]]:
    """Top-k docids and inner-product scores per query over all shards (exact, trec_eval tie order).

    ``device`` (torch backend): score on that torch device, e.g. "cuda"; "auto": CUDA when present; None: CPU.
    Returns scores float32 [nq, min(k, corpus size)] sorted descending, and the matching docids.
    """
    backend, device = resolve_backend(backend, device)
    q = np.ascontiguousarray(queries, dtype=np.float32)
    if q.ndim != 2 or not np.isfinite(q).all() or k < 1:
        raise ValueError(f"need finite queries [nq, dim] and k >= 1, got shape {q.shape}, k={k}")
    state, block_buf = _RunningTopK(q.shape[0], k), _Scratch()
    scorer = _Scorer(backend) if device is None else _DeviceScorer(device)
    with _no_tf32():
        for emb, docids in shards:
            if emb.ndim != 2 or emb.shape != (len(docids), q.shape[1]):
                raise ValueError(f"shard of shape {emb.shape} with {len(docids)} docids; dim must be {q.shape[1]}")
            rows, qb = block_shape(q.shape[0], q.shape[1], emb.dtype.itemsize, chunk_bytes, backend)
            for start, blk in _corpus_blocks(emb, rows, block_buf, device):
                for qs in range(0, q.shape[0], qb):
                    vals, idx = scorer.select(q[qs : qs + qb], blk, k, docids, start)
                    state.merge(qs, vals, idx, docids, start)
    return state.result()


def resolve_backend(backend: str, device: str | None) -> tuple[str, str | None]:
    """(backend, torch device or None): ``auto`` is torch on CUDA when present, else faiss on CPU."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown search backend {backend!r}; choose one of {BACKENDS}")
    if device == "auto":
        device = "cuda" if backend in ("auto", "torch") and torch.cuda.is_available() else None
    elif device is not None and torch.device(device).type == "cpu" and backend == "auto":
        device = None  # on CPU faiss is the fastest
    if backend == "auto":
        return ("torch", device) if device else ("faiss", None)
    if device is not None and backend != "torch":
        raise ValueError(f"search on device {device!r} needs backend='torch', not {backend!r}")
    return backend, device


@contextmanager
def _no_tf32():
    """float32 matmuls in full precision on CUDA (TF32 would round the inputs to 10 bits: not exact)."""
    before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before


def block_shape(nq: int, dim: int, src_itemsize: int, chunk_bytes: int, backend: str) -> tuple[int, int]:
    """(corpus rows per block, queries per block) whose working set fits ``chunk_bytes``."""
    per_row = dim * (4 + src_itemsize)  # the float32 block + the source pages it was read from
    if backend in ("faiss", "auto"):  # scores live in faiss's fixed tile, never as [queries x rows]
        return max(1, (chunk_bytes - FAISS_TILE_BYTES) // per_row), max(1, min(nq, FAISS_MAX_QUERIES))
    score_bytes = 4 if backend == "torch" else 12  # numpy: + argpartition's int64 index matrix
    rows = chunk_bytes // (per_row + nq * score_bytes)
    if rows >= MIN_BLOCK_ROWS or nq <= 1:
        return max(1, rows), max(1, nq)
    rows = max(1, (chunk_bytes // 2) // per_row)  # many queries: half for the corpus, half for the scores
    return rows, max(1, min(nq, (chunk_bytes // 2) // (rows * score_bytes)))


class _Scratch:
    """One float32 buffer reused for every block of every shard: a fresh 100+ MB array per block would be
    page-faulted again each time, and would double the peak while the previous one is still referenced."""

    def __init__(self):
        self.buf = np.empty(0, np.float32)

    def take(self, shape: tuple[int, int]) -> np.ndarray:
        n = shape[0] * shape[1]
        if self.buf.size < n:
            self.buf = np.empty(0, np.float32)  # drop our reference before allocating the larger one
            self.buf = np.empty(n, np.float32)
        return self.buf[:n].reshape(shape)


def _corpus_blocks(emb: np.ndarray, rows: int, scratch: _Scratch, device: str | None = None) -> Iterator[tuple]:
    """Yield (first row, float32 C-contiguous block): converted into the scratch buffer, or (``device``) copied
    as stored to the device and converted there (a torch tensor)."""
    mapping = getattr(emb, "_mmap", None)  # numpy's memmap keeps its mmap.mmap here (None for RAM arrays)
    in_ram_f32 = emb.dtype == np.float32 and emb.flags.c_contiguous and mapping is None
    for s in range(0, emb.shape[0], rows):
        src = emb[s : s + rows]
        if in_ram_f32 and device is None:
            yield s, src
            continue
        with warnings.catch_warnings():  # torch warns that a read-only memmap is not writable: we only read it
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            if device is not None:
                yield s, torch.from_numpy(np.ascontiguousarray(src)).to(device).float()
            else:
                out = scratch.take(src.shape)
                torch.from_numpy(out).copy_(torch.from_numpy(np.asarray(src)))  # 15x numpy's fp16 cast
                yield s, out
        if mapping is not None and hasattr(mapping, "madvise"):
            mapping.madvise(mmap.MADV_DONTNEED)  # drop the block's file pages from our RSS (page cache keeps them)


class _Scorer:
    """Per-block top-(k+1) with one reused score buffer, then the exact tie rule at the k boundary."""

    def __init__(self, backend: str):
        self.backend, self.scratch = backend, _Scratch()

    def _candidates(self, q: np.ndarray, blk: np.ndarray, kk: int):
        """(values [m, kk] sorted descending, row indices, full score matrix or None)."""
        if self.backend == "faiss":
            vals, idx = faiss.knn(q, blk, kk, metric=faiss.METRIC_INNER_PRODUCT)
            return vals, idx, None
        scores = self.scratch.take((q.shape[0], blk.shape[0]))
        if self.backend == "torch":
            torch.matmul(torch.from_numpy(q), torch.from_numpy(blk).T, out=torch.from_numpy(scores))
            vals, idx = torch.topk(torch.from_numpy(scores), kk, dim=1, largest=True, sorted=True)
            return vals.numpy(), idx.numpy(), scores
        np.matmul(q, blk.T, out=scores)
        part = np.argpartition(scores, blk.shape[0] - kk, axis=1)[:, blk.shape[0] - kk :]
        vals = np.take_along_axis(scores, part, 1)
        order = np.argsort(-vals, axis=1, kind="stable")
        return np.take_along_axis(vals, order, 1), np.take_along_axis(part, order, 1), scores

    def select(self, q, blk, k, docids, offset) -> tuple[np.ndarray, np.ndarray]:
        """The block's exact top-k (or all rows if fewer): scores and row indices within the block."""
        kk = min(k + 1, blk.shape[0])
        vals, idx, scores = self._candidates(q, blk, kk)
        if kk <= k:  # the whole block is a candidate: no boundary inside it
            return vals, idx
        boundary_tie = vals[:, k - 1] == vals[:, k]
        vals, idx = vals[:, :k].copy(), idx[:, :k].copy()
        for i in np.flatnonzero(boundary_tie):
            vals[i], idx[i] = _exact_row_topk(self._row(scores, blk, q, i), k, docids, offset)
        return vals, idx

    @staticmethod
    def _row(scores, blk, q, i) -> np.ndarray:
        return scores[i] if scores is not None else blk @ q[i]


class _DeviceScorer(_Scorer):
    """The torch backend on a device: scores and top-(k+1) stay on the device; only [m, k+1] come back."""

    def __init__(self, device: str):
        super().__init__("torch")
        self.device = torch.device(device)

    def _candidates(self, q: np.ndarray, blk: torch.Tensor, kk: int):
        scores = torch.from_numpy(q).to(self.device) @ blk.T
        vals, idx = torch.topk(scores, kk, dim=1, largest=True, sorted=True)
        return vals.cpu().numpy(), idx.cpu().numpy(), scores

    @staticmethod
    def _row(scores, blk, q, i) -> np.ndarray:
        return scores[i].cpu().numpy()


def _exact_row_topk(row: np.ndarray, k: int, docids: Sequence[str], offset: int):
    """Top-k of one score row: everything above the k-th score, then ties in trec_eval's order (docid descending)."""
    t = np.partition(row, row.shape[0] - k)[row.shape[0] - k]  # the k-th largest score
    above = np.flatnonzero(row > t)
    tied = np.flatnonzero(row == t)
    ties = tied[trec_order(row[tied], [docids[offset + j] for j in tied])]
    sel = np.concatenate([above, ties[: k - above.size].astype(np.int64)])
    return row[sel], sel


class _RunningTopK:
    """Per-query best k so far: scores sorted descending, docids resolved only for entries that get in."""

    def __init__(self, nq: int, k: int):
        self.k, self.seen = k, 0
        self.scores = np.full((nq, k), -np.inf, dtype=np.float32)
        self.docids = np.full((nq, k), None, dtype=object)

    def merge(self, qs: int, vals: np.ndarray, idx: np.ndarray, docids: Sequence[str], offset: int) -> None:
        k, m = self.k, vals.shape[0]
        if qs == 0:
            self.seen += vals.shape[1]
        cat = np.concatenate([self.scores[qs : qs + m], vals], axis=1)
        order = np.argsort(-cat, axis=1, kind="stable")[:, : k + 1]
        top = order[:, :k]
        new_s = np.take_along_axis(cat, top, 1)
        new_d = np.empty((m, k), dtype=object)
        old = top < k
        r, c = np.nonzero(old)
        new_d[r, c] = self.docids[qs + r, top[r, c]]
        r, c = np.nonzero(~old)  # block entries that made it in: look up their docids now
        new_d[r, c] = _objects([docids[offset + j] for j in idx[r, top[r, c] - k]])
        if order.shape[1] > k:
            kth, nxt = new_s[:, k - 1], np.take_along_axis(cat, order[:, k : k + 1], 1)[:, 0]
            for i in np.flatnonzero((kth == nxt) & np.isfinite(kth)):
                cand = list(self.docids[qs + i]) + [docids[offset + j] for j in idx[i]]
                pick = _trec_order(cat[i], cand)[:k]
                new_s[i], new_d[i] = cat[i, pick], [cand[j] for j in pick]
        self.scores[qs : qs + m], self.docids[qs : qs + m] = new_s, new_d

    def result(self) -> tuple[np.ndarray, list[list[str]]]:
        n = min(self.k, self.seen)
        scores, docids = self.scores[:, :n].copy(), self.docids[:, :n]
        out = []
        for i in range(scores.shape[0]):
            row = list(docids[i])
            if n > 1 and (scores[i, 1:] == scores[i, :-1]).any():  # equal scores: order them by docid desc
                pick = _trec_order(scores[i], row)
                scores[i], row = scores[i, pick], [row[j] for j in pick]
            out.append([str(d) for d in row])
        return scores, out


def _objects(items: list) -> np.ndarray:
    # np.array(list_of_str) would make a fixed-width unicode array; we keep references to the docid strings.
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _trec_order(scores: np.ndarray, docids: list) -> list[int]:
    """trec_eval's order of a running top-k row, whose empty slots have docid None (and score -inf)."""
    return trec_order(scores, [d or "" for d in docids])


def run_from_topk(
    query_ids: Sequence[str], scores: np.ndarray, docids: Sequence[Sequence[str]]
) -> dict[str, dict[str, float]]:
    """{qid: {docid: score}} for ``trec_io.write_run``; float32 scores become the exact same doubles."""
    if len(query_ids) != len(docids) or len(query_ids) != scores.shape[0]:
        raise ValueError(f"{len(query_ids)} query ids, {scores.shape[0]} score rows, {len(docids)} docid rows")
    run: dict[str, dict[str, float]] = {}
    for qid, srow, drow in zip(query_ids, scores, docids, strict=True):
        entry = {d: float(s) for d, s in zip(drow, srow[: len(drow)], strict=True)}
        if len(entry) != len(drow):
            raise ValueError(f"query {qid}: a docid occurs twice in the corpus; trec_eval rejects such runs")
        run[str(qid)] = entry
    return run
