"""`make bench-gpu`: the real corpus worker path on one GPU vs the bare fp16 loop, baselines, GPU search vs faiss.

One prepared command (<= 8 minutes on one H100/H200). Per mE5 architecture (small: BERT 12 x 384, base: XLM-R
12 x 768, large: XLM-R 24 x 1024; random weights built from transformers configs and saved as a local model dir,
speed does not depend on the values; the real mE5 tokenizer), on MIRACL-like multilingual passages (17 MIRACL
languages from Tatoeba, log-normal token lengths, benchmarks/bench_corpus_path.py) in a JSONL file:
- ``worker``: ``encode_worker_shard`` (evaluation/sweep/shard_job.py), what a sweep job runs: JSONL window ->
  tokeniser thread pool -> block batches -> fp16 forward under autocast -> fp16 shard + sha256 on disk, verified.
- ``bare_fp16``: the plainest loop end to end from the same JSONL: json.loads, one fast-tokenizer call, global
  length sort, pad to 8, fp16 weights, mean pool, normalise, np.save. Bars: worker >= 0.9x (large), 0.7x (small).
- ``st_fp16``: sentence-transformers ``encode`` (Transformer + mean Pooling + Normalize, ``.half()``) from the JSONL.
Whole runs interleaved in this process (rotating order), ``--reps`` >= 3; ratios are medians of per-repetition
ratios with min-max spread. Numeric agreement: the worker's stored vectors vs the bare loop's (cosine, max |diff|).
Search: ``evaluation.search.exact_topk`` torch-on-GPU vs faiss-cpu, 1,000 queries x >= 10M x 384 fp16, top-100.
mteb.evaluate (5c) and 1/2/4 workers with launcher=gpus (5f) are in benchmarks/gpu_rows.py; each says why it was
not measured when it cannot run (mteb is not on the GPU image; one GPU).

    python -m benchmarks.run_gpu --prepare       # here: .cache/me5-eval-bench/gpu-inputs (tokenizer, Tatoeba, wheels)
    python -m benchmarks.run_gpu [--out $OUT]    # there: reports/bench/gpu-latest.{json,md} (me5-eval plan reads it)
    python -m benchmarks.run_gpu --smoke         # CPU, tiny models and inputs: reports/bench/gpu-smoke.{json,md}
The GPU image has torch, transformers, sentence-transformers, tokenizers, pandas; hydra-core, omegaconf, antlr4,
faiss-cpu and pytrec_eval come as wheels carried in gpu-inputs/wheels; ``datasets`` (imported, never used, by the
hub loaders) is replaced by a stub that fails if it is ever called.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np

from benchmarks.common import REPORT_DIR, WORK_DIR, Bar, interleaved, machine_info, print_table, write_report
from benchmarks.gpu_rows import bench_mteb, bench_search, bench_workers

INPUTS = WORK_DIR / "gpu-inputs"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
WHEELS = ("hydra-core", "omegaconf", "antlr4-python3-runtime", "faiss-cpu", "pytrec_eval-terrier")
BARS = {"small": 0.7, "base": None, "large": 0.9}
PASSAGES = {"small": 65_536, "base": 32_768, "large": 16_384}
ARCH = {"small": (12, 384, 12), "base": (12, 768, 12), "large": (24, 1024, 16)}  # layers, width, heads
TINY = (2, 64, 2)  # --smoke: the same families, tiny


def prepare(out: Path = INPUTS) -> Path:
    """Tokenizer files, the Tatoeba files of the 17 languages and the wheels the GPU image lacks."""
    from benchmarks.bench_corpus_path import DATA_ROOT, MIRACL_TATOEBA
    from benchmarks.common import me5_small_dir

    (out / "tokenizer").mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        shutil.copy2(me5_small_dir() / name, out / "tokenizer" / name)
    tatoeba = out / "tatoeba" / "v1"
    tatoeba.mkdir(parents=True, exist_ok=True)
    for code in MIRACL_TATOEBA.values():
        name = "tatoeba.fra-eng.eng" if code == "eng" else f"tatoeba.{code}-eng.{code}"
        shutil.copy2(DATA_ROOT / "tatoeba" / "v1" / name, tatoeba / name)
    pins = dict(line.strip().split("==") for line in (Path(__file__).parents[1] / "constraints.txt").read_text()
                .splitlines() if "==" in line)
    wheels, pip = out / "wheels", [sys.executable, "-m", "pip"]
    binary = [f"{w}=={pins[w]}" for w in WHEELS if w != "antlr4-python3-runtime"]
    platforms = [f for tag in ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
                 for f in ("--platform", tag)]
    subprocess.run([*pip, "download", "--no-deps", "--only-binary=:all:", "--python-version", "3.12", *platforms,
                    "-d", str(wheels), *binary], check=True)  # the GPU image's Python 3.12
    # antlr4's pinned version is an sdist only: pure Python, built into a py3-none-any wheel here
    antlr = "antlr4-python3-runtime"
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), f"{antlr}=={pins[antlr]}"], check=True)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out} ({size / 2**20:.1f} MiB); carry it: .cache/me5-eval-bench/gpu-inputs")
    return out


def bootstrap(inputs: Path) -> None:
    """Make the worker path importable on the GPU image: carried wheels, a stub for the unused ``datasets``."""
    try:
        import hydra  # noqa: F401
    except ImportError:
        site = inputs / "site"
        if not site.is_dir():
            subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--target", str(site),
                            *map(str, sorted((inputs / "wheels").glob("*.whl")))], check=True)
        sys.path.insert(0, str(site))
    try:
        import datasets  # noqa: F401
    except ImportError:
        stub = types.ModuleType("datasets")

        class _Unavailable:
            def __init__(self, *a, **k):
                raise RuntimeError("datasets is not installed here (the GPU benchmark never loads hub data)")

        stub.Dataset = stub.DatasetDict = _Unavailable
        sys.modules["datasets"] = stub


def model_dir(size: str, dst: Path, tokenizer_dir: Path, tiny: bool) -> Path:
    """A local model dir: the architecture from its transformers config, random weights, the real tokenizer."""
    import torch
    from transformers import AutoModel, BertConfig, XLMRobertaConfig

    layers, hidden, heads = TINY if tiny else ARCH[size]
    common = dict(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                  intermediate_size=4 * hidden, pad_token_id=1)
    config = (BertConfig(vocab_size=250037, max_position_embeddings=512, type_vocab_size=2, **common)
              if size == "small" else
              XLMRobertaConfig(vocab_size=250002, max_position_embeddings=514, type_vocab_size=1, **common))
    torch.manual_seed(0)
    AutoModel.from_config(config, add_pooling_layer=False).save_pretrained(dst)
    for name in TOKENIZER_FILES:
        shutil.copy2(tokenizer_dir / name, dst / name)
    return dst


def read_texts(corpus: Path) -> list[str]:
    """The worker's texts for this corpus: the paper protocol's passage prompt + text (titles are empty)."""
    with open(corpus, encoding="utf-8") as f:
        return ["passage: " + json.loads(line)["text"] for line in f if line.strip()]


def bare_fp16(corpus: Path, tok, model, device, batch_size: int, npy: Path) -> dict:
    """The plainest loop, JSONL to vectors on disk (fp16 weights, pad to 8 on CUDA)."""
    import torch

    texts = read_texts(corpus)
    ids = tok(texts, truncation=True, max_length=512, return_attention_mask=False)["input_ids"]
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    multiple = 8 if device.type == "cuda" else 1
    out, padded = [], 0
    with torch.inference_mode():
        for s in range(0, len(order), batch_size):
            batch = [ids[i] for i in order[s : s + batch_size]]
            width = -(-max(map(len, batch)) // multiple) * multiple
            x = torch.full((len(batch), width), tok.pad_token_id, dtype=torch.long)
            for r, row in enumerate(batch):
                x[r, : len(row)] = torch.tensor(row)
            mask = (x != tok.pad_token_id).long()
            x, mask = x.to(device, non_blocking=True), mask.to(device, non_blocking=True)
            hidden = model(input_ids=x, attention_mask=mask).last_hidden_state.float()
            m = mask.unsqueeze(-1).float()
            out.append(torch.nn.functional.normalize((hidden * m).sum(1) / m.sum(1), dim=-1))
            padded += x.numel()
    emb = torch.cat(out).cpu().numpy()
    vectors = np.empty_like(emb)
    vectors[order] = emb
    np.save(npy, vectors.astype(np.float16))
    return {"batches": -(-len(order) // batch_size), "padded_tokens": padded, "vectors": vectors}


def bench_size(size: str, args, device, work: Path, corpus_dir: Path, tok) -> tuple[list[Bar], dict]:
    import torch
    from transformers import AutoModel

    from evaluation.compose import compose_run_config
    from evaluation.models import loading
    from evaluation.sweep.shard_job import encode_worker_shard

    cuda = device.type == "cuda"
    mdir = model_dir(size, work / f"model-{size}", args.tokenizer_dir, args.smoke)
    hidden = json.loads((mdir / "config.json").read_text())["hidden_size"]
    cache = work / f"cache-{size}"
    common = [f"model={size}", f"model.path={mdir}", f"model.dim={hidden}", "suite=mteb-en", "tasks=[SciFact]",
              "data.root=null", f"data.paths.SciFact={corpus_dir}", f"device={device}", f"batch_size={args.batch_size}",
              f"model.dtype={'float16' if cuda else 'float32'}", f"output.dir={work / f'results-{size}'}"]
    cfg = compose_run_config([*common, f"cache.dir={cache}", "shards=1", "shard_index=0"])
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    model = AutoModel.from_pretrained(mdir, dtype=torch.float16 if cuda else torch.float32).to(device).eval()
    corpus = corpus_dir / "corpus.jsonl"
    got: dict = {}

    def worker():
        shutil.rmtree(cache / "shards", ignore_errors=True)
        encode_worker_shard(cfg)
        sync()

    def bare():
        got["bare"] = bare_fp16(corpus, tok, model, device, args.batch_size, work / f"bare-{size}.npy")
        sync()

    variants = {"worker": worker, "bare_fp16": bare}
    st, st_error = sentence_transformer(mdir, hidden, device), None
    if isinstance(st, str):
        st, st_error = None, st
    else:
        variants["st_fp16"] = lambda: (st.encode(read_texts(corpus), batch_size=args.batch_size,
                                                 convert_to_numpy=True, show_progress_bar=False), sync())
    for fn in variants.values():  # warm-up: kernels, allocator, the corpus count memo
        fn()
    timings = interleaved(variants, args.reps)
    encoder = loading.load_encoder_once(cfg.model, device=cfg.device, protocol=cfg.protocol)
    stats = encoder.last_stats
    [npy] = (cache / "shards").rglob("shard-00000.npy")
    ours = np.load(npy).astype(np.float32)
    ref = got["bare"]["vectors"]
    cos = float((ours * ref).sum(1).min())  # both unit vectors
    n = ours.shape[0]
    ratios = [b / w for b, w in zip(timings["bare_fp16"].wall, timings["worker"].wall, strict=True)]
    rate = {k: n / statistics.median(t.wall) for k, t in timings.items()}
    counts = {"worker": {"batches": stats["batches"], "padded_tokens": stats["padded_tokens"]},
              "bare_fp16": {k: got["bare"][k] for k in ("batches", "padded_tokens")}}
    head = f"{n:,} passages, batch {args.batch_size}, {'fp16' if cuda else 'fp32 (smoke)'}"
    summary = (f"{head}: worker {rate['worker']:,.0f} p/s, bare {rate['bare_fp16']:,.0f} (ratio "
               f"{statistics.median(ratios):.3f}, spread {min(ratios):.3f}-{max(ratios):.3f}); batches "
               f"{counts['worker']['batches']} vs {counts['bare_fp16']['batches']}, padded tokens "
               f"{counts['worker']['padded_tokens']:,} vs {counts['bare_fp16']['padded_tokens']:,}")
    details = {"summary": summary, "ratios": ratios, "passages_per_s": rate, "counts": counts, "n": n,
               "timing": "interleaved whole runs, same process", "tokenizer_threads": stats.get("threads")}
    bars = [Bar(f"5a worker path vs bare fp16 loop, JSONL -> vectors on disk [{size}]", statistics.median(ratios),
                None if args.smoke else BARS[size], details=details)]  # a smoke run (tiny, CPU) meets no bar
    if st is not None:
        st_ratios = [s / w for s, w in zip(timings["st_fp16"].wall, timings["worker"].wall, strict=True)]
        bars.append(Bar(f"5b worker path vs sentence-transformers encode fp16 [{size}]", statistics.median(st_ratios),
                        None, details={"summary": f"st {rate['st_fp16']:,.0f} p/s; spread {min(st_ratios):.3f}-"
                                                  f"{max(st_ratios):.3f}", "ratios": st_ratios}))
    else:
        bars.append(Bar(f"5b worker path vs sentence-transformers encode fp16 [{size}]", None, None, note=st_error))
    max_diff = float(np.abs(ours - ref).max())
    bars.append(Bar(f"5d numeric agreement, worker vs bare loop [{size}]", None, None, check=cos > 0.999,
                    check_desc="min cosine > 0.999", details={"summary": f"min cosine {cos:.6f}, max |diff| "
                                                                        f"{max_diff:.1e}", "max_abs_diff": max_diff}))
    bars.append(bench_mteb(size, corpus_dir, st, device, args.batch_size, args.reps, timings["worker"].wall))
    variants.clear()
    loading._LOADED.clear()  # the next size must not keep this model on the GPU
    if cuda:
        torch.cuda.empty_cache()
    if cuda:
        torch.cuda.empty_cache()
    # block_rows: 4 shards per worker of whole blocks; the workers load their own model
    workers = (1, 2) if args.smoke else (1, 2, 4)
    bars.append(bench_workers(size, [*common, f"block_rows={max(1, n // (4 * workers[-1]))}"], work, device, n,
                              workers))
    return bars, {"timings": timings, "worker_passages_per_s": rate["worker"]}


def sentence_transformer(mdir: Path, dim: int, device):
    """sentence-transformers over the same model dir (mean pooling, normalised), fp16 on CUDA; or why not."""
    try:
        from sentence_transformers import SentenceTransformer, models

        st = SentenceTransformer(modules=[models.Transformer(str(mdir), max_seq_length=512),
                                          models.Pooling(dim, "mean"), models.Normalize()], device=str(device))
        return st.half() if device.type == "cuda" else st
    except Exception as e:  # reported in the row, not hidden  # noqa: BLE001
        return f"not measured: sentence-transformers failed: {type(e).__name__}: {e}"[:300]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--prepare", action="store_true", help="write the inputs folder (run here, on the CPU machine)")
    p.add_argument("--smoke", action="store_true", help="tiny models and inputs on CPU (the CI test)")
    p.add_argument("--inputs", type=Path, default=INPUTS)
    p.add_argument("--models", default="small,base,large")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--search-rows", type=int, default=10_000_000)
    p.add_argument("--out", type=Path, default=None, help="also write the report here (e.g. $OUT)")
    p.add_argument("--work", type=Path, default=WORK_DIR / "gpu-work")
    p.add_argument("--report-dir", type=Path, default=REPORT_DIR)
    args = p.parse_args(argv)
    if args.prepare:
        prepare(args.inputs)
        return 0
    if args.smoke:
        args.batch_size, args.search_rows = 8, 20_000
    bootstrap(args.inputs)
    import torch
    from transformers import AutoTokenizer

    from benchmarks.bench_corpus_path import multilingual_passages, write_beir

    device = torch.device("cpu" if args.smoke else "cuda")
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: run this on a GPU machine (or --smoke on CPU)", file=sys.stderr)
        return 2
    if args.smoke:  # here: the converted mE5-small's tokenizer and the shared data's Tatoeba
        from benchmarks.bench_corpus_path import DATA_ROOT
        from benchmarks.common import me5_small_dir

        args.tokenizer_dir, args.text_root = me5_small_dir(), DATA_ROOT
    else:
        args.tokenizer_dir, args.text_root = args.inputs / "tokenizer", args.inputs
    if not (args.tokenizer_dir / "tokenizer.json").is_file():
        print(f"{args.inputs} has no tokenizer: run `python -m benchmarks.run_gpu --prepare` first", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    shutil.rmtree(args.work, ignore_errors=True)
    tok = AutoTokenizer.from_pretrained(str(args.tokenizer_dir))
    bars, raw, plan_rates = [], {}, {}
    for size in [s.strip() for s in args.models.split(",") if s.strip()]:
        n = 24 if args.smoke else PASSAGES[size]
        corpus_dir = write_beir(multilingual_passages(tok, n, root=args.text_root), args.work / f"corpus-{size}")
        print(f"== {size}: {n} passages", flush=True)
        got, raw[size] = bench_size(size, args, device, args.work, corpus_dir, tok)
        bars += got
        plan_rates[size] = raw[size]["worker_passages_per_s"]
        print(got[0].details["summary"], flush=True)
    bars.append(bench_search(args.search_rows, device, args.reps))
    machine = machine_info()
    machine.update(torch=torch.__version__, cuda=torch.version.cuda,
                   gpu=torch.cuda.get_device_name() if device.type == "cuda" else None)
    stem = "gpu-smoke" if args.smoke else "gpu-latest"
    notes = ["Random-weight models built from the mE5 configs (transformers), the real mE5 tokenizer, MIRACL-like "
             "multilingual passages from Tatoeba (benchmarks/run_gpu.py)."]
    for out_dir in [args.report_dir] + ([args.out] if args.out else []):
        path = write_report(bars, suite=f"gpu ({device})" + (" --smoke" if args.smoke else ""), machine=machine,
                            raw=raw, load={}, wall_s=time.perf_counter() - t0, out_dir=out_dir, stem=stem, notes=notes)
        doc = json.loads(path.read_text(encoding="utf-8"))  # what `me5-eval plan` reads (evaluation/gpu_rates.py)
        doc.update(smoke=args.smoke, gpu=machine["gpu"] or "cpu", plan_rates=plan_rates)
        path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print_table(bars)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
