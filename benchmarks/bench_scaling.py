"""Bar 4 — scaling: a SciFact run with its corpus in 1 shard (in-process) vs 2 shards through the joblib launcher.

`me5-eval run model=minilm tasks=[SciFact] shards=1 launcher=local` against `shards=2 launcher=joblib`
(hydra-joblib-launcher, n_jobs=2: two worker processes, each limited by joblib to cpu_count // n_jobs BLAS/OpenMP
threads), fresh result and cache folders each time, SciFact test queries over a corpus subset of ``--docs``
documents (the judged ones + the first others). Timed: the whole run, and inside it the corpus-encoding phase
(shards=1: `encode_shard` in-process; shards=2: the launcher's sweep, worker start-up included). Runs in the order
1, 2, 2, 1 shards (A B B A), each from fresh folders; medians.

No bar number: the issue asks for the efficiency, honestly. On a machine with C cores, one process already
uses all C cores for its matrix products, so 2 shards can only win from overlapping the serial parts
(tokenisation, Python) — and they pay two process start-ups and two model loads. We also time one fresh
process that imports the stack and loads the model, the fixed cost each worker pays.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import WORK_DIR, Bar, Timing, timed


def overrides(root: Path, run_dir: Path, shards: int) -> list[str]:
    launcher = "local" if shards == 1 else "joblib"
    return ["model=minilm", "suite=mteb-en", "tasks=[SciFact]", f"data.root={root}",
            f"output.dir={run_dir / 'results'}", f"cache.dir={run_dir / 'cache'}", "device=cpu",
            f"shards={shards}", f"launcher={launcher}", "output.overwrite=true"]


def worker_startup_s() -> float:
    """Wall time of a fresh interpreter that imports the encoder stack and loads all-MiniLM-L6-v2."""
    code = ("from benchmarks.common import minilm_dir\n"
            "from benchmarks.bench_encode import model_config\n"
            "from evaluation.models.loading import load_encoder\n"
            "load_encoder(model_config('all-MiniLM-L6-v2'), device='cpu')\n")
    wall, _, _ = timed(lambda: subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                              cwd=Path(__file__).resolve().parents[1]))
    return wall


def _warm_up() -> None:
    import mteb  # noqa: F401

    import evaluation.task_eval  # noqa: F401
    from benchmarks.bench_encode import model_config
    from evaluation.models.loading import load_encoder

    load_encoder(model_config("all-MiniLM-L6-v2"), device="cpu")


def run(quick: bool = False, *, n_docs: int | None = None) -> tuple[list[Bar], dict]:
    import logging

    import evaluation.retrieval as retrieval
    import evaluation.runner as runner
    from benchmarks.bench_e2e_mteb import subset_root
    from evaluation.runner import run_from_overrides

    logging.getLogger().setLevel(logging.WARNING)
    n_docs = n_docs or (340 if quick else 400)  # every judged document is kept: ~340 at least
    root = subset_root(n_docs)
    scratch = Path(tempfile.mkdtemp(dir=WORK_DIR, prefix="scaling-"))
    phase: dict[str, float] = {}

    def timing_wrapper(module, attr, key):
        original = getattr(module, attr)

        def wrapped(*args, **kwargs):
            wall, _, out = timed(lambda: original(*args, **kwargs))
            phase[key] = phase.get(key, 0.0) + wall
            return out

        setattr(module, attr, wrapped)
        return lambda: setattr(module, attr, original)

    restores = [timing_wrapper(retrieval, "encode_shard", "encode_shard_s"),
                timing_wrapper(runner, "encode_shards_with_launcher", "sweep_s")]
    timings: dict[str, Timing] = {"shards_1": Timing(), "shards_2": Timing()}
    phases: dict[str, dict] = {"shards_1": {}, "shards_2": {}}
    scores: dict[str, float] = {}
    try:
        _warm_up()  # imports and one model load, so neither run pays them first
        # A B B A: a load that drifts linearly over the four runs hits both alike; each run starts cold
        for k, shards in enumerate((1, 2, 2, 1)[: 2 if quick else 4]):
            phase.clear()
            wall, cpu, res = timed(lambda shards=shards, k=k: run_from_overrides(
                overrides(root, scratch / f"shards{shards}-{k}", shards)))
            name = f"shards_{shards}"
            timings[name].wall.append(wall)
            timings[name].cpu.append(cpu)
            for key, value in phase.items():
                phases[name][key] = phases[name].get(key, []) + [value]
            scores[name] = float(res[0].get_score())
        startup = worker_startup_s()
    finally:
        for restore in restores:
            restore()
        shutil.rmtree(scratch, ignore_errors=True)

    t1, t2 = timings["shards_1"].median, timings["shards_2"].median
    enc1 = statistics.median(phases["shards_1"].get("encode_shard_s", [float("nan")]))
    enc2 = statistics.median(phases["shards_2"].get("sweep_s", [float("nan")]))
    speedup, enc_speedup = t1 / t2, enc1 / enc2
    details = {
        "summary": (f"SciFact {n_docs} docs: 1 shard {t1:.1f} s, 2 shards (joblib) {t2:.1f} s: speed-up "
                    f"{speedup:.2f}, efficiency {speedup / 2:.0%}; corpus phase {enc1:.1f} s vs sweep {enc2:.1f} s; "
                    f"a worker's start-up + model load {startup:.1f} s"),
        "n_docs": n_docs, "cpus": len(os.sched_getaffinity(0)), "speedup": speedup, "efficiency": speedup / 2,
        "encode_phase_speedup": enc_speedup, "encode_phase_efficiency": enc_speedup / 2, "phases": phases,
        "worker_startup_and_model_load_s": startup, "scores": scores,
        "same_scores": abs(scores["shards_1"] - scores["shards_2"]) < 1e-9,
        "launcher": "joblib (hydra-joblib-launcher, n_jobs=2)",
    }
    bars = [Bar("4 scaling: 2 shards (joblib) vs 1 shard, speed-up", speedup, None, details=details,
                check=details["same_scores"], check_desc="same scores")]
    return bars, {"scaling": timings}


def main(argv: list[str] | None = None) -> None:
    from benchmarks.common import print_table, quiet_openmp, save_raw

    quiet_openmp()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--docs", type=int, default=None)
    args = p.parse_args(argv)
    bars, raw = run(args.quick, n_docs=args.docs)
    print_table(bars)
    save_raw("scaling", bars, raw)
    print(bars[0].details)


if __name__ == "__main__":
    main()
