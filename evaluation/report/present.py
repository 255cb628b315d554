"""Display frames shared by the Markdown, HTML and LaTeX renderers (numbers -> strings, table order)."""

from __future__ import annotations

import math

import pandas as pd

from evaluation.report.paper import PAPER_MODELS, TABLES
from evaluation.report.tables import sort_by

INCOMPLETE = "\u2020"  # dagger: mean over the available part only
MODELS_AS_ROWS = {"table3", "table4", "table5"}  # the paper's own orientation of each table


def fmt(v, digits: int = 2, signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def sections(cells: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(table_id, title, cells) in the paper's order; a table with no cells is left out."""
    out = []
    for tid, title in TABLES.items():
        sub = cells[cells["table_id"] == tid]
        if not sub.empty:
            out.append((tid, title, sub))
    return out


def _ours_text(row) -> str:
    if row["n"] and row["n"] != row["n_expected"]:  # partial mean: show it, but marked
        return f"{fmt(row['ours'])}{INCOMPLETE} ({row['n']}/{row['n_expected']})"
    return fmt(row["ours"])


def cell_view(cells: pd.DataFrame) -> pd.DataFrame:
    """One line per cell, grouped by model: row | model | paper | leaderboard | ours | delta | verdict | note."""
    c = cells.sort_values(["model", "order"], key=_model_key, kind="stable")
    # A row the paper names differently from mteb (CQADupstack) shows both names.
    renamed = (c["task"] != c["paper_row"]) & (c["table_id"] == "table7") & (c["task"] != "MTEB(eng, v1)")
    row = c["paper_row"].where(~renamed, c["task"] + " (paper: " + c["paper_row"] + ")")
    return pd.DataFrame({
        "row": row, "model": c["model"], "metric": c["metric"],
        "paper": [fmt(v, 1) for v in c["paper"]], "leaderboard": [fmt(v) for v in c["leaderboard"]],
        "ours": [_ours_text(r) for _, r in c.iterrows()], "delta": [fmt(v, signed=True) for v in c["delta"]],
        "tol": [fmt(v, 1) for v in c["tolerance"]], "verdict": c["verdict"], "note": c["note"].fillna(""),
    })


def _model_key(col: pd.Series) -> pd.Series:
    """Paper models in the paper's order first, then everything else alphabetically."""
    if col.name != "model":
        return col
    rank = {m: i for i, m in enumerate(PAPER_MODELS)}
    return col.map(lambda m: f"{rank.get(m, 99):02d}{m}")


def paper_layout(cells: pd.DataFrame, table_id: str, value: str = "ours") -> pd.DataFrame:
    """Numeric table in the paper's layout (models as rows for Tables 3-5, as columns otherwise);
    our incomplete means are left out (NaN): a paper-style table must not mix them with complete ones."""
    c = cells[cells["table_id"] == table_id]
    c = c.assign(**{value: c[value].where(c["n"] == c["n_expected"])}) if value == "ours" else c  # no partials
    c = c.assign(col=c["paper_row"] + (" " + c["metric"].str.replace("_at_", "@")).where(
        c["table_id"].isin(["table6", "mrtydi_card"]), ""))
    wide = c.pivot_table(index="col", columns="model", values=value, aggfunc="first", sort=False)
    wide = wide.reindex(index=list(dict.fromkeys(c["col"])), columns=list(dict.fromkeys(c["model"])))
    wide = wide.T if table_id in MODELS_AS_ROWS else wide
    wide.index.name = wide.columns.name = None
    return wide


def leaderboard_view(values: pd.DataFrame, coverage: pd.DataFrame, column: str) -> pd.DataFrame:
    """Leaderboard as strings, sorted by `column`; partial means carry a dagger and n/N."""
    v = sort_by(values, column, coverage)
    cov = coverage.loc[v.index]
    out = v[["model", "source"]].copy()
    for col in v.columns[2:]:
        out[col] = [fmt(x) + (f"{INCOMPLETE} ({c})" if c and fmt(x) else "")
                    for x, c in zip(v[col], cov[col], strict=True)]
    return out


def problems_view(problems) -> pd.DataFrame:
    return pd.DataFrame([{"severity": p.severity, "where": p.where, "problem": p.what} for p in problems],
                        columns=["severity", "where", "problem"])


def counts_view(cells: pd.DataFrame) -> pd.DataFrame:
    """Compact: one row per model, one column per table, each cell 'OK/FAIL/MISSING' counts."""
    from evaluation.report.verdict import per_table_counts

    long = per_table_counts(cells)
    long["cell"] = long["OK"].astype(str) + "/" + long["FAIL"].astype(str) + "/" + long["MISSING"].astype(str)
    wide = long.pivot(index="model", columns="table_id", values="cell").fillna("")
    wide = wide[[t for t in TABLES if t in wide.columns]]
    wide = wide.loc[sorted(wide.index, key=lambda m: (m not in PAPER_MODELS, m))]
    wide.columns = [f"{t} OK/FAIL/MISSING" for t in wide.columns]
    return wide.reset_index()
