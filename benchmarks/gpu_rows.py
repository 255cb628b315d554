"""Rows of `make bench-gpu` beside the worker-path row (benchmarks/run_gpu.py): the mteb.evaluate baseline (5c),
1/2/4 workers with ``launcher=gpus`` (5f) and GPU search vs faiss-cpu (5e).

Each row measures what it names or says in its note why it could not (a missing package, one GPU); a row never
passes a bar it does not have.
"""

from __future__ import annotations

import importlib.util
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Bar, interleaved


def bench_mteb(size: str, corpus_dir: Path, st, device, batch_size: int, reps: int, worker_s: list[float]) -> Bar:
    """``mteb.evaluate`` of the same corpus (a SciFact-shaped task holding it: 1 query, so the time is the corpus
    encode) with the same sentence-transformers model and precision as row 5b, vs the worker path's times."""
    name = f"5c worker path vs mteb.evaluate, same precision [{size}]"
    missing = [m for m in ("mteb", "datasets") if importlib.util.find_spec(m) is None]
    if missing or st is None:
        # the GPU image has neither; carrying mteb's wheels (datasets, polars, pydantic...) exceeds the 64 MiB carry
        why = f"{', '.join(missing)} not installed here" if missing else "sentence-transformers could not load it"
        return Bar(name, None, None, note=f"not measured: {why}")
    import mteb
    from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper

    from evaluation.data.beir import read_beir
    from evaluation.data.mteb_dataset import attach_local_data

    data = read_beir(corpus_dir, "test")
    model = SentenceTransformerEncoderWrapper(st)
    results = corpus_dir.parent / f"mteb-results-{size}"

    def run() -> None:
        task = attach_local_data(mteb.get_task("SciFact"), {"default": data}, "test")
        mteb.evaluate(model, [task], cache=mteb.ResultCache(results), overwrite_strategy="always",
                      show_progress_bar=False, encode_kwargs={"batch_size": batch_size, "show_progress_bar": False})
        if device.type == "cuda":
            import torch

            torch.cuda.synchronize()

    run()  # warm-up, as the other variants had
    timing = interleaved({"mteb": run}, reps)
    ratios = [m / w for m, w in zip(timing["mteb"].wall, worker_s, strict=False)]
    n = len(data.corpus)
    summary = (f"mteb.evaluate {n / statistics.median(timing['mteb'].wall):,.0f} p/s, worker "
               f"{n / statistics.median(worker_s):,.0f} p/s (medians of {reps}; ratio {statistics.median(ratios):.3f},"
               f" spread {min(ratios):.3f}-{max(ratios):.3f}); not interleaved with the worker runs")
    return Bar(name, statistics.median(ratios), None,
               details={"summary": summary, "ratios": ratios, "timing": "whole runs, same process, after row 5a"})


def bench_workers(size: str, cfg_overrides: list[str], work: Path, device, n_docs: int,
                  counts: tuple[int, ...]) -> Bar:
    """The corpus phase of a run with ``launcher=gpus`` and 1, 2, 4 worker processes (one per GPU; on CPU, the
    cores split between them): wall time of the whole shard sweep, start-up and model loads included."""
    import torch

    from evaluation.compose import compose_run_config
    from evaluation.suites import resolve_suite
    from evaluation.sweep.driver import encode_shards_with_launcher

    name = f"5f 1/2/4 workers (launcher=gpus), corpus phase [{size}]"
    gpus = torch.cuda.device_count() if device.type == "cuda" else 0
    counts = tuple(n for n in counts if device.type != "cuda" or n <= gpus)
    if len(counts) < 2:
        return Bar(name, None, None, note=f"not measured: {gpus} GPU(s) here, 2 are needed")
    wall: dict[int, float] = {}
    for n in counts:
        cfg = compose_run_config([*cfg_overrides, f"cache.dir={work / f'workers-{n}'}", f"shards={4 * n}",
                                  "shard_index=null", "launcher=gpus", f"launcher.params.workers={n}"])
        t0 = time.perf_counter()
        outcome = encode_shards_with_launcher(cfg, resolve_suite(cfg.suite, cfg.tasks, cfg.langs))
        wall[n] = time.perf_counter() - t0
        if outcome is None or len(outcome.encoded) != 4 * n:
            raise RuntimeError(f"the {n}-worker sweep encoded {0 if outcome is None else len(outcome.encoded)} "
                               f"shards of {4 * n}")
    speedup = {n: wall[counts[0]] / wall[n] for n in counts}
    summary = (f"{n_docs:,} passages, 4 shards per worker: " + ", ".join(
        f"{n} worker(s) {wall[n]:.1f} s (x{speedup[n]:.2f})" for n in counts) + " incl. start-up and model loads")
    return Bar(name, speedup[counts[-1]], None, details={"summary": summary, "wall_s": wall, "speedup": speedup,
                                                         "workers": list(counts), "gpus": gpus})


def bench_search(n: int, device, reps: int) -> Bar:
    """exact_topk on the GPU (torch) vs faiss-cpu: 1,000 queries x n x 384 fp16, top-100, same rankings."""
    import torch

    from evaluation.search import exact_topk

    g = torch.Generator(device=device).manual_seed(0)
    corpus = torch.nn.functional.normalize(torch.randn(n, 384, device=device, generator=g), dim=-1)
    emb = corpus.half().cpu().numpy()
    del corpus
    q = torch.nn.functional.normalize(torch.randn(1000, 384, device=device, generator=g), dim=-1).cpu().numpy()
    docids = [f"d{i}" for i in range(n)]
    out: dict = {}

    def run(backend, dev):
        def go():
            out[backend] = exact_topk(q, [(emb, docids)], 100, 2 << 30, backend, device=dev)
            if device.type == "cuda":
                torch.cuda.synchronize()
        return go

    gpu_dev = str(device) if device.type == "cuda" else "cpu"
    timings = interleaved({"torch": run("torch", gpu_dev), "faiss": run("faiss", None)}, reps)
    same = float(np.mean([a == b for a, b in zip(out["torch"][1], out["faiss"][1], strict=True)]))
    ratios = [f / t for f, t in zip(timings["faiss"].wall, timings["torch"].wall, strict=True)]
    t_torch, t_faiss = (statistics.median(timings[k].wall) for k in ("torch", "faiss"))
    summary = (f"{n:,} x 384 fp16, 1,000 queries, top-100: torch on {gpu_dev} {t_torch:.2f} s, faiss-cpu "
               f"{t_faiss:.2f} s; identical rankings for {same:.1%}")
    return Bar(f"5e search: torch on {gpu_dev} vs faiss-cpu, {n:,} x 384", statistics.median(ratios), None,
               check=same >= 0.999, check_desc="same top-100 for >= 99.9 % of queries",
               details={"summary": summary, "ratios": ratios, "same_rankings": same})
