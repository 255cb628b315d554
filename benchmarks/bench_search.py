"""Bar 3 — exact top-100 search: `evaluation.search.exact_topk` over memmapped float32 shards vs faiss
IndexFlatIP holding the whole matrix in RAM, and the GEMM alone (the limit).

Data: N x 384 float32 unit vectors (Gaussian, seed 0) written once as 4 shard files (.npy, the pipeline's
layout) under .cache/me5-eval-bench/ — read through the page cache, as a rerun reads its shards — and 1,000
unit query vectors. N = 1,000,000 (--quick: 100,000).

Variants (interleaved, rotating order, ``reps`` times each):
- ``ours``: exact_topk(queries, shards, k=100, chunk_bytes=the config default search_chunk_mb, backend=auto),
  its peak RSS growth measured per call (VmHWM reset through /proc/self/clear_refs).
- ``faiss_flat``: IndexFlatIP with all N rows added beforehand (not timed; 1.5 GB resident), .search(q, 100).
- ``gemm``: queries @ block.T into one reused score buffer, blocks of 65,536 rows of the in-RAM matrix, no
  top-k selection: the arithmetic every exact method must do.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np

from benchmarks.common import WORK_DIR, Bar, Timing, peak_rss, timed

DIM, K, N_QUERIES, N_SHARDS = 384, 100, 1000, 4


def make_shards(n: int, seed: int = 0) -> list[Path]:
    """N unit vectors in N_SHARDS .npy files (generated once, block by block, so memory stays small)."""
    out = WORK_DIR / f"search-{n}x{DIM}-seed{seed}"
    paths = [out / f"shard-{i}.npy" for i in range(N_SHARDS)]
    if all(p.is_file() for p in paths):
        return paths
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    bounds = np.linspace(0, n, N_SHARDS + 1).astype(int)
    for i, path in enumerate(paths):
        rows = int(bounds[i + 1] - bounds[i])
        tmp = path.with_suffix(".tmp.npy")
        arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(rows, DIM))
        for s in range(0, rows, 100_000):
            blk = rng.standard_normal((min(100_000, rows - s), DIM), dtype=np.float32)
            blk /= np.linalg.norm(blk, axis=1, keepdims=True)
            arr[s : s + len(blk)] = blk
        arr.flush()
        del arr
        tmp.rename(path)
    return paths


def queries(seed: int = 1) -> np.ndarray:
    q = np.random.default_rng(seed).standard_normal((N_QUERIES, DIM), dtype=np.float32)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def run(quick: bool = False, *, n: int | None = None, reps: int | None = None,
        chunk_mb: int | None = None) -> tuple[list[Bar], dict]:
    import faiss

    from evaluation.config import RunConfig
    from evaluation.search import exact_topk

    n = n or (100_000 if quick else 1_000_000)
    reps = reps or 3
    chunk_mb = chunk_mb or RunConfig.search_chunk_mb
    chunk_bytes = chunk_mb << 20
    paths = make_shards(n)
    q = queries()
    shards = [np.load(p, mmap_mode="r") for p in paths]
    bounds = [0, *np.cumsum([len(s) for s in shards]).tolist()]
    docids = [f"doc{i:07d}" for i in range(n)]
    shard_ids = [docids[bounds[i] : bounds[i + 1]] for i in range(len(shards))]

    _, _, _ = timed(lambda: [np.asarray(s).sum() for s in shards])  # pull the files into the page cache
    index = faiss.IndexFlatIP(DIM)
    for s in shards:
        for b in range(0, len(s), 65_536):
            index.add(np.ascontiguousarray(s[b : b + 65_536]))
    xb = faiss.rev_swig_ptr(index.get_xb(), n * DIM).reshape(n, DIM)  # the index's own float32 rows
    gemm_rows = 65_536
    gemm_out = np.empty((N_QUERIES, gemm_rows), np.float32)

    def gemm():
        for s in range(0, n, gemm_rows):
            blk = xb[s : s + gemm_rows]
            np.matmul(q, blk.T, out=gemm_out[:, : len(blk)])

    results: dict = {}
    memory: list[dict] = []

    def ours():
        with peak_rss() as mem:
            results["ours"] = exact_topk(q, list(zip(shards, shard_ids, strict=True)), k=K, chunk_bytes=chunk_bytes)
        memory.append(dict(mem))

    def faiss_flat():
        with peak_rss() as mem:
            results["faiss"] = index.search(q, K)
        results["faiss_mem"] = dict(mem)

    timings = {name: Timing() for name in ("ours", "faiss_flat", "gemm")}
    fns = {"ours": ours, "faiss_flat": faiss_flat, "gemm": gemm}
    names = list(fns)
    for rep in range(reps):
        for name in names[rep % 3:] + names[: rep % 3]:
            wall, cpu, _ = timed(fns[name])
            timings[name].wall.append(wall)
            timings[name].cpu.append(cpu)

    # same answer: top-100 docids agree with faiss (ties aside) and scores to float32 rounding
    f_scores, f_idx = results["faiss"]
    o_scores, o_docids = results["ours"]
    agree = statistics.mean(
        len(set(o_docids[i]) & {docids[j] for j in f_idx[i]}) / K for i in range(N_QUERIES))
    max_score_diff = float(np.abs(o_scores - f_scores).max())
    ours_med, faiss_med, gemm_med = (timings[k].median for k in ("ours", "faiss_flat", "gemm"))
    peak = max(m["growth_mib"] for m in memory)
    matrix_mib = n * DIM * 4 / 2**20
    details = {
        "summary": (f"{n:,} x {DIM} fp32, {N_QUERIES} queries, top-{K}: ours {ours_med:.2f} s, faiss IndexFlatIP "
                    f"{faiss_med:.2f} s, GEMM alone {gemm_med:.2f} s; ours peak RSS growth {peak:.0f} MiB "
                    f"(budget {chunk_mb} MiB) vs faiss holding {matrix_mib:.0f} MiB"),
        "n": n, "dim": DIM, "queries": N_QUERIES, "k": K, "shards": N_SHARDS, "chunk_mb": chunk_mb,
        "median_s": {"ours": ours_med, "faiss_flat": faiss_med, "gemm": gemm_med},
        "ours_over_gemm": ours_med / gemm_med, "faiss_over_gemm": faiss_med / gemm_med,
        "gflops_gemm": 2 * N_QUERIES * n * DIM / gemm_med / 1e9,
        "ours_peak_rss_growth_mib": peak, "ours_memory_per_call": memory, "chunk_budget_mib": chunk_mb,
        "peak_within_budget": peak <= chunk_mb * 1.1 + 64,  # + queries, top-k state, docid objects
        "faiss_index_resident_mib": matrix_mib, "faiss_search_peak_growth_mib": results["faiss_mem"]["growth_mib"],
        "top100_overlap_with_faiss": agree, "max_abs_score_diff": max_score_diff,
        "page_cache": "warm (shards read once before timing)",
    }
    bars = [Bar("3 exact top-100 search vs faiss IndexFlatIP (time ratio)", ours_med / faiss_med, 1.2,
                lower_is_better=True, details=details)]
    return bars, {"search": timings}


def main(argv: list[str] | None = None) -> None:
    from benchmarks.common import print_table, quiet_openmp, save_raw

    quiet_openmp()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--n", type=int, default=None)
    p.add_argument("--reps", type=int, default=None)
    args = p.parse_args(argv)
    bars, raw = run(args.quick, n=args.n, reps=args.reps)
    print_table(bars)
    save_raw("search", bars, raw)
    print({k: v for k, v in bars[0].details.items() if k != "ours_memory_per_call"})
    print({k: v.to_json() for k, v in raw["search"].items()})


if __name__ == "__main__":
    main()
