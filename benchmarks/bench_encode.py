"""Bar 1 — encoding: our E5Encoder vs a bare `model(**batch)` + mean-pooling loop, same batch size and dtype.

Texts: real STSBenchmark test sentences, SciFact test queries and SciFact corpus passages (title + text, as
mteb joins them), the first N of each in file order, duplicates removed (both sides get the same unique
texts; dedupe is a separate win of ours, not counted here).

Variants, each over all texts:
- ``ours``: ``E5Encoder.encode_formatted(raw texts)`` — tokenisation, length sorting, padding to a multiple
  of PAD_MULTIPLE on CUDA, background collation, forward, pooling, copy back. Everything from raw text.
- ``bare_sorted`` (the practical limit): texts pre-sorted by token count (longest first), tokenised and padded
  to each batch's longest *before* timing; timed: ``model(**batch).last_hidden_state`` + masked mean.
- ``bare_unsorted``: the same loop over the texts in their natural order (each dataset's file order).

Timing: the sorted order is cut into pieces of a few batches; piece i of every variant runs back to back
(``common.paired_pieces``) — ours gets piece i's raw texts (which it sorts into the same batches), the
unsorted loop gets its own i-th batches. Totals over pieces = whole runs.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from benchmarks.common import Bar, paired_pieces, piece_ratio

DATA_ROOT = Path(os.environ.get("ME5_EVAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def real_texts(root: Path, n_sts: int, n_queries: int, n_passages: int,
               prompts: tuple[str, str, str] = ("", "", "")) -> tuple[list[str], dict[str, int]]:
    """Unique texts in natural order: STSB sentences (pairs interleaved as read), SciFact queries, passages,
    each with its prompt (STS, query, passage) prepended."""
    from evaluation.data import registry
    from evaluation.retrieval import corpus_inputs

    sts = registry.load_local("STSBenchmark", "default", "test", root)
    sci = registry.load_local("SciFact", "default", "test", root)
    sentences = [s for pair in zip(sts.sentence1, sts.sentence2, strict=True) for s in pair][:n_sts]
    queries = list(sci.queries.values())[:n_queries]
    passages = corpus_inputs(sci.corpus, "SciFact", 0, min(n_passages, len(sci.corpus)))
    p_sts, p_query, p_passage = prompts
    texts = list(dict.fromkeys([p_sts + t for t in sentences] + [p_query + t for t in queries]
                               + [p_passage + t for t in passages]))
    return texts, {"sts_sentences": len(sentences), "scifact_queries": len(queries),
                   "scifact_passages": len(passages), "unique_texts": len(texts)}


MODELS = {
    # name: (config, prompts for (STS sentence, query, passage), sample sizes (sts, queries, passages), quick)
    "multilingual-e5-small": dict(max_length=512, prompts=("query: ", "query: ", "passage: "),
                                  full=(256, 32, 64), quick=(128, 16, 24)),
    "all-MiniLM-L6-v2": dict(max_length=256, prompts=("", "", ""), full=(256, 32, 96), quick=(128, 16, 32)),
}


def model_config(name: str):
    from benchmarks.common import me5_small_dir, minilm_dir
    from evaluation.config import ModelConfig

    if name == "all-MiniLM-L6-v2":
        return ModelConfig(name="sentence-transformers/all-MiniLM-L6-v2", path=str(minilm_dir()), dim=384,
                           prompt_style="none", max_length=256)
    return ModelConfig(name="intfloat/multilingual-e5-small", path=str(me5_small_dir()), dim=384, max_length=512)


def padding_stats(lengths: np.ndarray, batches: list[np.ndarray], multiple: int = 1) -> dict[str, float]:
    real = int(lengths.sum())
    padded = sum(len(b) * (-(-int(lengths[b].max()) // multiple) * multiple) for b in batches)
    return {"real_tokens": real, "padded_tokens": int(padded), "padded_over_real": padded / real}


def run_model(model: str, quick: bool = False, *, batch_size: int = 64,
              sizes: tuple[int, int, int] | None = None) -> tuple[list[Bar], dict]:
    import torch

    from evaluation.models.batching import collate, length_sorted_batches
    from evaluation.models.loading import load_encoder

    spec = MODELS[model]
    n_sts, n_queries, n_passages = sizes or spec["quick" if quick else "full"]
    cfg = model_config(model)
    # the protocol's prompts, applied up front: both sides encode exactly these strings
    texts, counts = real_texts(DATA_ROOT, n_sts, n_queries, n_passages, spec["prompts"])
    enc = load_encoder(cfg, device="cpu")
    model_, tok = enc.model, enc.tokenizer
    max_len = cfg.max_length

    lengths = np.array([len(x) for x in tok(texts, truncation=True, max_length=max_len)["input_ids"]])
    sorted_order = np.argsort(-lengths, kind="stable")
    sorted_batches = [sorted_order[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    natural_batches = [np.arange(i, min(i + batch_size, len(texts))) for i in range(0, len(texts), batch_size)]

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
    timings = paired_pieces(variants, n_pieces)

    # the same numbers: ours (not normalised) vs the bare loop on the first texts
    check = enc.encode_formatted(texts[:32], normalize=False, batch_size=batch_size, show_progress=False)
    ref = bare(pretokenize([np.arange(min(32, len(texts)))])[0]).numpy()
    max_abs_diff = float(np.abs(check - ref).max())

    # our padding, from the batches our collate really builds
    from evaluation.models.batching import tokenize

    tokens = tokenize(tok, texts, max_len)
    ours_batches = length_sorted_batches(tokens.lengths, batch_size)
    ours_padded = sum(collate(tokens, b, tok.pad_token_id, max_len, False).input_ids.numel() for b in ours_batches)
    real = int(lengths.sum())
    pad = {"ours": {"real_tokens": real, "padded_tokens": int(ours_padded), "padded_over_real": ours_padded / real},
           "bare_sorted": padding_stats(lengths, sorted_batches),
           "bare_unsorted": padding_stats(lengths, natural_batches)}
    rate = {k: len(texts) / t.total for k, t in timings.items()}
    vs_sorted = piece_ratio(timings["bare_sorted"], timings["ours"])
    vs_unsorted = piece_ratio(timings["bare_unsorted"], timings["ours"])
    common = {"model": cfg.name, "max_length": max_len, "texts": counts, "tokens": real, "batch_size": batch_size,
              "dtype": "float32", "device": "cpu", "pieces": n_pieces, "texts_per_s": rate,
              "tokens_per_s": {k: real / t.total for k, t in timings.items()}, "padding": pad,
              "max_abs_diff_vs_bare": max_abs_diff}
    summary = (f"{model}: ours {rate['ours']:.1f} texts/s, bare sorted {rate['bare_sorted']:.1f}, unsorted "
               f"{rate['bare_unsorted']:.1f}; padded/real tokens: ours {pad['ours']['padded_over_real']:.3f}, "
               f"sorted {pad['bare_sorted']['padded_over_real']:.3f}, "
               f"unsorted {pad['bare_unsorted']['padded_over_real']:.3f}")
    bars = [
        Bar(f"1a encode vs bare loop, length-sorted (limit) [{model}]", vs_sorted["ratio_of_totals"], 0.95,
            details={"summary": summary, **vs_sorted, **common}),
        Bar(f"1b encode vs bare loop, unsorted [{model}]", vs_unsorted["ratio_of_totals"], 1.2,
            details={"summary": summary, **vs_unsorted}),
    ]
    return bars, {f"encode[{model}]": timings}


def run(quick: bool = False, *, batch_size: int = 64, models: tuple[str, ...] = tuple(MODELS)):
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
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--model", choices=list(MODELS), action="append")
    args = p.parse_args(argv)
    bars, raw = run(args.quick, batch_size=args.batch_size, models=tuple(args.model or MODELS))
    print_table(bars)
    save_raw("encode", bars, raw)
    for b in bars:
        print(b.name, {k: v for k, v in b.details.items() if k != "summary"})


if __name__ == "__main__":
    main()
