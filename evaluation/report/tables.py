"""Paper tables with our values next to the paper's, and the leaderboard.

A "cell" is one paper number (table, row, model, metric) joined with our aggregate for the same key,
the published mteb result for that checkpoint ("leaderboard"), the deltas and a verdict. Each run is held
against one published checkpoint (`target_of`): its own (a reproduction), the one it is a variant of
(`me5_eval.reference_model`), or the one it was fine-tuned from (`adapted_from`, `paper_models:`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evaluation.report.aggregate import MRTYDI_ISO, MTEB_EN, miracl_langs
from evaluation.report.collect import ModelRun
from evaluation.report.settings import MRTYDI_METRIC, ReportSettings
from evaluation.report.verdict import apply_verdicts

KEY = ["task", "subset", "metric"]
CELL_COLUMNS = ["family", "table_id", "table", "paper_row", "model", "relation", "relation_note", "paper_model",
                "checkpoint", "task", "subset", "metric", "derived", "paper", "leaderboard", "ours", "n",
                "n_expected", "note", "source", "order", "counted"]
# How a run relates to the published checkpoint its row is held against (see module docstring).
REPRODUCTION, VARIANT, DERIVED, OTHER, NOT_RUN = "reproduction", "variant", "derived", "other", "not run"
# Leaderboard columns: label -> aggregate key. (n) = how many tasks/languages the mean is over.
LEADERBOARD_COLUMNS = {
    "MTEB-en avg (56)": (MTEB_EN, "average", "main_score"),
    "Class. (12)": (MTEB_EN, "Classification", "main_score"),
    "Clust. (11)": (MTEB_EN, "Clustering", "main_score"),
    "PairClass. (3)": (MTEB_EN, "PairClassification", "main_score"),
    "Rerank. (4)": (MTEB_EN, "Reranking", "main_score"),
    "Retr. (15)": (MTEB_EN, "Retrieval", "main_score"),
    "STS (10)": (MTEB_EN, "STS", "main_score"),
    "Summ. (1)": (MTEB_EN, "Summarization", "main_score"),
    "MIRACL nDCG@10 (16)": ("MIRACLRetrieval", "avg16", "ndcg_at_10"),
    "MIRACL nDCG@10 (18)": ("MIRACLRetrieval", "avg18", "ndcg_at_10"),
    "MIRACL R@100 (16)": ("MIRACLRetrieval", "avg16", "recall_at_100"),
    "BUCC F1 (4)": ("BUCC", "average", "f1"),
    "Tatoeba F1 (112)": ("Tatoeba", "average", "f1"),
    "Mr.TyDi MRR@10 (11)": ("MrTidyRetrieval", "average", MRTYDI_METRIC),
    "Mr.TyDi R@100 (11)": ("MrTidyRetrieval", "average", "recall_at_100"),
}


@dataclass
class Scored:
    run: ModelRun
    scores: pd.DataFrame  # aggregate(run)


def target_of(run: ModelRun, known: set[str], settings: ReportSettings) -> tuple[str | None, str]:
    """(published checkpoint the run is held against, relation); `known` = checkpoints with numbers to compare."""
    if run.variant is not None:
        return (run.reference_model if run.reference_model in known else None), VARIANT
    if run.primary and run.hub_id in known:
        return run.hub_id, REPRODUCTION
    wanted = settings.paper_models.get(run.name) or settings.paper_models.get(run.hub_id)
    wanted = wanted or (run.meta.get("adapted_from") if run.primary else None)
    return (wanted, DERIVED) if wanted in known else (None, OTHER)


def relation_note(run: ModelRun | None, relation: str, checkpoint: str | None) -> str:
    """The label a reader sees next to a run that is not the published checkpoint itself."""
    if relation == VARIANT:
        what = run.variant if run else "local weights"
        return f"variant ({what}) vs published checkpoint {checkpoint}" if checkpoint else f"variant ({what})"
    if relation == DERIVED:
        return f"derived from {checkpoint}: meant to differ, not counted"
    return ""


def _join(group: pd.DataFrame, scores: pd.DataFrame | None, col: str) -> pd.DataFrame:
    s = scores if scores is not None else pd.DataFrame(columns=[*KEY, "value", "n", "n_expected"])
    s = s.rename(columns={"value": col})[[*KEY, col, "n", "n_expected"]]
    return group.merge(s, on=KEY, how="left")


def _complete_values(scores: pd.DataFrame | None) -> pd.DataFrame | None:
    return None if scores is None else scores[scores["n"] == scores["n_expected"]]


def _model_cells(group, scored: Scored | None, checkpoint, relation, refs) -> pd.DataFrame:
    label = scored.run.name if scored else checkpoint
    c = group.rename(columns={"value": "paper"}).assign(
        family="paper", model=label, checkpoint=checkpoint or "", relation=relation,
        relation_note=relation_note(scored.run if scored else None, relation, checkpoint),
        counted=relation == REPRODUCTION)
    c = _join(c, _complete_values(refs.get(checkpoint)) if checkpoint else None, "leaderboard")
    c = c.drop(columns=["n", "n_expected"])
    c = _join(c, scored.scores if scored else None, "ours")
    c[["n", "n_expected"]] = c[["n", "n_expected"]].fillna(0).astype(int)
    return c


def paper_cells(paper: pd.DataFrame, table_ids: list[str], ours: list[Scored],
                refs: dict[str, pd.DataFrame], settings: ReportSettings) -> pd.DataFrame:
    """Cells of the given tables for every paper model (relation 'not run' when nothing of ours is held against
    it) and every other run with values for them (no paper row: values only)."""
    p = paper[paper["table_id"].isin(table_ids)]
    paper_ids = set(p["model"])
    mapped: dict[str, list[tuple[Scored, str]]] = {}
    others: list[Scored] = []
    for s in ours:
        target, relation = target_of(s.run, paper_ids, settings)
        if target:
            mapped.setdefault(target, []).append((s, relation))
        else:
            others.append(s)
    frames = []
    for paper_id, group in p.groupby("model", sort=False):
        for s, relation in mapped.get(paper_id) or [(None, NOT_RUN)]:
            frames.append(_model_cells(group, s, paper_id, relation, refs))
    rows = p.drop_duplicates(["table_id", "paper_row", *KEY]).assign(value=float("nan"), paper_model="",
                                                                     note="no paper row for this model")
    for s in others:  # e.g. all-MiniLM-L6-v2 on STSBenchmark: its values next to the paper rows, no verdict
        published, _ = target_of(s.run, set(refs), settings)
        c = _model_cells(rows, s, published, OTHER, refs)
        if c["ours"].notna().any():
            frames.append(c)
    cells = pd.concat(frames, ignore_index=True)[CELL_COLUMNS] if frames else pd.DataFrame(columns=CELL_COLUMNS)
    return apply_verdicts(cells, settings.tolerance)


def paper_table_mteb(paper, ours, refs, settings) -> pd.DataFrame:
    """Table 3 (56-task average) and Appendix Table 7 (per dataset + derived category means)."""
    return paper_cells(paper, ["table3", "table7"], ours, refs, settings)


def paper_table_miracl(paper, ours, refs, settings) -> pd.DataFrame:
    """Table 4 (16-language averages) and Appendix Table 6 (per language), nDCG@10 and R@100."""
    return paper_cells(paper, ["table4", "table6"], ours, refs, settings)


def paper_table_bitext(paper, ours, refs, settings) -> pd.DataFrame:
    """Table 5: BUCC (mean F1 over 4 pairs) and Tatoeba (mean F1 over 112 pairs)."""
    return paper_cells(paper, ["table5"], ours, refs, settings)


def paper_table_mrtydi(paper, ours, refs, settings) -> pd.DataFrame:
    """The model cards' Mr.TyDi table (MRR@10; its R@100 half was not recovered -> NO_PAPER)."""
    return paper_cells(paper, ["mrtydi_card"], ours, refs, settings)


def paper_scores(paper: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Paper values per model in aggregate() form; a key printed twice keeps the earlier table (3 before 7)."""
    p = paper.dropna(subset=["value"]).drop_duplicates(["model", *KEY], keep="first")
    return {m: g[[*KEY, "value"]].assign(n=1, n_expected=1) for m, g in p.groupby("model", sort=False)}


def _index(scores: pd.DataFrame) -> dict[tuple[str, str, str], tuple[float, str]]:
    """(task, subset, metric) -> (value, 'n/N' if partial else ''): one pass instead of a filter per cell."""
    return {(t, s, m): (float(v), "" if n == ne else f"{int(n)}/{int(ne)}")
            for t, s, m, v, n, ne in scores[[*KEY, "value", "n", "n_expected"]].itertuples(index=False)}


def wide_table(entries: list[tuple[str, str, pd.DataFrame]], columns: dict[str, tuple[str, str, str]]):
    """One row per (model, source); returns (values, coverage) where coverage holds 'n/N' for partial means."""
    vals, cov = [], []
    for name, source, scores in entries:
        idx = _index(scores)
        got = {label: idx.get(key, (float("nan"), "")) for label, key in columns.items()}
        vals.append({"model": name, "source": source, **{k: v for k, (v, _) in got.items()}})
        cov.append({"model": name, "source": source, **{k: c for k, (_, c) in got.items()}})
    cols = ["model", "source", *columns]
    return pd.DataFrame(vals, columns=cols), pd.DataFrame(cov, columns=cols)


def leaderboard(entries: list[tuple[str, str, pd.DataFrame]]):
    """Every model (ours, reference, paper) x suite/category columns with the paper's aggregation rules."""
    return wide_table(entries, LEADERBOARD_COLUMNS)


def language_columns(suite: str) -> dict[str, tuple[str, str, str]]:
    if suite == "miracl":
        return {lang: ("MIRACLRetrieval", lang, "ndcg_at_10") for lang in miracl_langs(18)}
    return {iso: ("MrTidyRetrieval", name, MRTYDI_METRIC) for name, iso in MRTYDI_ISO.items()}


def sort_by(values: pd.DataFrame, column: str, coverage: pd.DataFrame | None = None) -> pd.DataFrame:
    """Best first; partial means (coverage 'n/N') after all complete ones; models without the column last."""
    if column not in values.columns:
        return values
    partial = coverage[column].ne("") if coverage is not None else pd.Series(False, index=values.index)
    group = partial.astype(int).where(values[column].notna(), 2)  # 0 complete, 1 partial, 2 missing
    key = pd.DataFrame({"group": group, "v": -values[column]}, index=values.index)
    return values.loc[key.sort_values(["group", "v"], kind="stable").index]
