"""Exact top-k search: equals brute force (incl. trec_eval's tie rule), bounded memory at 1M x 384."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from evaluation.search import FAISS_TILE_BYTES, block_shape, exact_topk, run_from_topk

BACKENDS = ["torch", "faiss", "numpy"]


def brute_force(q: np.ndarray, corpus: np.ndarray, docids: list[str], k: int):
    """Full matmul, then trec_eval order (score desc, docid desc) with Python's stable sorts."""
    scores = (q.astype(np.float64) @ corpus.astype(np.float64).T).astype(np.float32)
    out_s, out_d = [], []
    for row in scores:
        order = sorted(range(len(docids)), key=lambda j: (row[j], docids[j]), reverse=True)[:k]
        out_s.append(row[order])
        out_d.append([docids[j] for j in order])
    return np.array(out_s, dtype=np.float32), out_d


def quantized(rng, n: int, d: int) -> np.ndarray:
    # Multiples of 1/8 in [-1/2, 1/2]: exact in fp16, and every dot product is exact in float32 whatever the
    # summation order, so results must match brute force bit for bit, with many exact ties.
    return (rng.integers(-4, 5, size=(n, d)) / 8).astype(np.float32)


def split(corpus: np.ndarray, docids: list[str], n_shards: int, dtype=np.float16):
    bounds = np.linspace(0, len(docids), n_shards + 1).astype(int)
    return [(corpus[a:b].astype(dtype), docids[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]


def chunk(extra: int, backend: str) -> int:
    return extra + (FAISS_TILE_BYTES if backend == "faiss" else 0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n_shards", [1, 2, 4])
@pytest.mark.parametrize("extra_bytes", [2_000, 20_000, 10_000_000])  # ~10 rows/block, ~100, whole corpus
def test_equals_brute_force_with_ties(backend, n_shards, extra_bytes):
    rng = np.random.default_rng(n_shards)
    corpus, q = quantized(rng, 300, 16), quantized(rng, 40, 16)
    docids = [f"doc{i}" for i in rng.permutation(300)]  # string order differs from row and numeric order
    want_s, want_d = brute_force(q, corpus, docids, 10)
    got_s, got_d = exact_topk(q, split(corpus, docids, n_shards), 10, chunk(extra_bytes, backend), backend)
    np.testing.assert_array_equal(got_s, want_s)
    assert got_d == want_d


@pytest.mark.parametrize("n_shards", [1, 3])
@pytest.mark.parametrize("extra_bytes", [2_000, 20_000, 10_000_000])
@pytest.mark.parametrize("quantize", [True, False])
def test_torch_on_a_device_gives_faiss_rankings_with_ties(n_shards, extra_bytes, quantize):
    """The merge-side search on a GPU (here the CPU device: the same code path, blocks copied as stored and converted
    on the device, scores and top-k kept there) ranks exactly as faiss, ties (docid descending) included."""
    rng = np.random.default_rng(7)
    make = (lambda n, d: quantized(rng, n, d)) if quantize else (
        lambda n, d: rng.standard_normal((n, d)).astype(np.float32))
    corpus, q = make(500, 16), make(30, 16)
    docids = [f"doc{i}" for i in rng.permutation(500)]
    shards = split(corpus, docids, n_shards)
    want_s, want_d = exact_topk(q, shards, 10, chunk(extra_bytes, "faiss"), "faiss")
    got_s, got_d = exact_topk(q, shards, 10, chunk(extra_bytes, "torch"), "torch", device="cpu")
    assert got_d == want_d
    np.testing.assert_allclose(got_s, want_s, rtol=1e-6)  # float32 sums in another order: last bit
    if quantize:  # exact products: the same bits, and brute force's order
        np.testing.assert_array_equal(got_s, want_s)
        assert got_d == brute_force(q, corpus, docids, 10)[1]


def test_auto_backend_is_faiss_on_cpu_and_torch_on_cuda(monkeypatch):
    from evaluation.search import resolve_backend

    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert resolve_backend("auto", "auto") == resolve_backend("auto", "cpu") == ("faiss", None)
    assert resolve_backend("torch", "cpu") == ("torch", "cpu")
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    assert resolve_backend("auto", "auto") == ("torch", "cuda")
    assert resolve_backend("auto", "cuda:1") == ("torch", "cuda:1")
    assert resolve_backend("faiss", "auto") == ("faiss", None)
    with pytest.raises(ValueError, match="needs backend='torch'"):
        resolve_backend("faiss", "cuda")


@pytest.mark.parametrize("backend", BACKENDS)
def test_all_equal_scores_keep_largest_docids(backend):
    corpus = np.ones((50, 8), np.float32)
    docids = [f"p{i}" for i in range(50)]
    s, d = exact_topk(np.ones((3, 8), np.float32), split(corpus, docids, 3), 5, chunk(200, backend), backend)
    assert d == [sorted(docids, reverse=True)[:5]] * 3  # p9, p8, p7, p6, p5 (string order, like trec_eval)
    assert (s == 8.0).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_k_larger_than_corpus(backend):
    rng = np.random.default_rng(1)
    corpus, q = quantized(rng, 7, 4), quantized(rng, 3, 4)
    docids = [f"d{i}" for i in range(7)]
    s, d = exact_topk(q, split(corpus, docids, 3), 100, chunk(10_000, backend), backend)
    want_s, want_d = brute_force(q, corpus, docids, 100)
    assert s.shape == (3, 7) and d == want_d
    np.testing.assert_array_equal(s, want_s)


@pytest.mark.parametrize("backend", BACKENDS)
def test_random_float_data_fp32_and_fp16_memmap(backend, tmp_path):
    rng = np.random.default_rng(7)
    corpus = rng.standard_normal((400, 32)).astype(np.float16)
    q = rng.standard_normal((25, 32)).astype(np.float32)
    docids = [f"x{i:04d}" for i in range(400)]
    np.save(tmp_path / "a.npy", corpus[:150])
    np.save(tmp_path / "b.npy", corpus[150:])
    mm = [np.load(tmp_path / n, mmap_mode="r") for n in ("a.npy", "b.npy")]
    want_s, want_d = brute_force(q, corpus.astype(np.float32), docids, 20)
    for shards in ([(mm[0], docids[:150]), (mm[1], docids[150:])], split(corpus, docids, 3, np.float32)):
        s, d = exact_topk(q, shards, 20, chunk(30_000, backend), backend)
        np.testing.assert_allclose(s, want_s, rtol=0, atol=1e-4)  # summation order differs from float64
        assert d == want_d  # gaps between neighbours are >> 1e-4 in this data


def test_block_shape_fits_budget():
    for nq, d, budget in [(1000, 384, 512 << 20), (50_000, 1024, 256 << 20), (1, 768, 1 << 20)]:
        for backend, score_bytes in (("torch", 4), ("numpy", 12)):
            rows, qb = block_shape(nq, d, 2, budget, backend)
            assert 1 <= qb <= nq and rows * d * 6 + qb * rows * score_bytes <= budget
        rows, qb = block_shape(nq, d, 2, budget + FAISS_TILE_BYTES, "faiss")
        assert rows * d * 6 <= budget


def test_bad_input():
    with pytest.raises(ValueError, match="backend"):
        exact_topk(np.ones((1, 2), np.float32), [], 1, 1000, "gpu")
    with pytest.raises(ValueError, match="dim must be 2"):
        exact_topk(np.ones((1, 2), np.float32), [(np.ones((3, 4)), ["a", "b", "c"])], 1, 1000)


def test_run_from_topk():
    s = np.array([[3.0, 2.5], [1.0, 0.0]], np.float32)
    run = run_from_topk(["q1", "q2"], s, [["a", "b"], ["c", "a"]])
    assert run == {"q1": {"a": 3.0, "b": 2.5}, "q2": {"c": 1.0, "a": 0.0}}
    with pytest.raises(ValueError, match="twice"):
        run_from_topk(["q1"], s[:1], [["a", "a"]])


# ---- acceptance: 1M x 384 fp16 memmapped shards, 1000 queries, top-100, bounded RSS ---------------------
N_DOCS, DIM, N_Q, K, N_SHARDS = 1_000_000, 384, 1_000, 100, 4
BUDGET = 256 << 20
FIXED_OVERHEAD = 64 << 20  # running top-k (nq x k scores + docid refs), faiss/OpenMP buffers, allocator slack

_SEARCH = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    from evaluation.search import exact_topk
    root, budget, n_shards, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    def vm(key):
        return int(next(l for l in open("/proc/self/status") if l.startswith(key)).split()[1]) * 1024
    q = np.load(f"{root}/queries.npy")
    shards = [(np.load(f"{root}/shard-{i}.npy", mmap_mode="r"), json.load(open(f"{root}/docids-{i}.json")))
              for i in range(n_shards)]
    exact_topk(q[:2], [(shards[0][0][:1000], shards[0][1][:1000])], 5, budget)  # warm thread pools
    open("/proc/self/clear_refs", "w").write("5")  # reset VmHWM to the current RSS
    before = vm("VmHWM:")
    t0 = time.perf_counter()
    scores, docids = exact_topk(q, shards, k, budget)
    seconds = time.perf_counter() - t0
    np.save(f"{root}/scores.npy", scores)
    json.dump(docids, open(f"{root}/result.json", "w"))
    print(json.dumps({"seconds": seconds, "rss_before": before, "rss_growth": vm("VmHWM:") - before}))
""")


def _write_corpus(root: Path) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(0)
    per = N_DOCS // N_SHARDS
    for i in range(N_SHARDS):
        mm = np.lib.format.open_memmap(root / f"shard-{i}.npy", "w+", np.float16, (per, DIM))
        for s in range(0, per, 50_000):
            x = rng.standard_normal((min(50_000, per - s), DIM), dtype=np.float32)
            mm[s : s + x.shape[0]] = x / np.linalg.norm(x, axis=1, keepdims=True)
        mm.flush()
        del mm
        (root / f"docids-{i}.json").write_text(json.dumps([f"d{i * per + j:07d}" for j in range(per)]))
    q = rng.standard_normal((N_Q, DIM), dtype=np.float32)
    np.save(root / "queries.npy", q / np.linalg.norm(q, axis=1, keepdims=True))
    return np.load(root / "queries.npy")


def _reference_topk(root: Path, q: np.ndarray, k: int):
    """Brute force in this process: numpy matmul (not faiss) per 50k rows, top-k candidates, one final sort."""
    cand_s, cand_d = [], []
    for i in range(N_SHARDS):
        x = np.load(root / f"shard-{i}.npy", mmap_mode="r")
        ids = np.array(json.loads((root / f"docids-{i}.json").read_text()))
        for a in range(0, x.shape[0], 50_000):
            s = q @ np.asarray(x[a : a + 50_000], dtype=np.float32).T
            part = np.argpartition(-s, k, axis=1)[:, :k]
            cand_s.append(np.take_along_axis(s, part, 1))
            cand_d.append(ids[a + part])
    s, d = np.concatenate(cand_s, 1), np.concatenate(cand_d, 1)
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]  # random float data: exact ties are not expected
    return np.take_along_axis(s, order, 1), np.take_along_axis(d, order, 1)


@pytest.mark.slow
def test_acceptance_1m_docs_bounded_memory_equals_brute_force(tmp_path):
    q = _write_corpus(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    # CI shares its cores: OpenMP threads spinning at faiss's barriers would slow it 3x (measured).
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = [str(tmp_path), str(BUDGET), str(N_SHARDS), str(K)]
    proc = subprocess.run([sys.executable, "-c", _SEARCH, *args], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\n1M x {DIM} x {N_Q} top-{K}: {stats['seconds']:.1f} s, RSS growth "
          f"{stats['rss_growth'] / 2**20:.0f} MiB (budget {BUDGET >> 20} MiB)")
    allowed = BUDGET + q.nbytes + FIXED_OVERHEAD
    assert stats["rss_growth"] < allowed, stats
    scores, docids = np.load(tmp_path / "scores.npy"), json.loads((tmp_path / "result.json").read_text())
    sub = np.arange(0, N_Q, 10)  # brute force on every 10th query keeps the test near a minute
    ref_s, ref_d = _reference_topk(tmp_path, q[sub], K + 1)  # k+1: a near-tie may cross the boundary
    np.testing.assert_allclose(scores[sub], ref_s[:, :K], rtol=0, atol=1e-5)
    for row, i in enumerate(sub):
        # faiss's and numpy's float32 sums differ in rounding: only neighbours closer than 1e-5 may swap
        for j in np.flatnonzero(np.array(docids[i]) != ref_d[row, :K]):
            assert np.sort(np.abs(ref_s[row] - ref_s[row, j]))[1] < 1e-5, (i, j)
