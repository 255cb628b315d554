"""Display frames shared by the Markdown, HTML and LaTeX renderers (numbers -> strings, table order)."""

from __future__ import annotations

import math

import pandas as pd

from evaluation.report.paper import MRTYDI_INSTRUCTION_NOTE, MRTYDI_OWN_INSTRUCTION, PAPER_MODELS, TABLE_NOTES, TABLES
from evaluation.report.published import PUBLISHED_TABLE, PUBLISHED_TITLE
from evaluation.report.tables import OTHER, sort_by
from evaluation.report.verdict import NOT_RUN, per_table_counts

INCOMPLETE = "\u2020"  # dagger: mean over the available part only
MODELS_AS_ROWS = {"table3", "table4", "table5"}  # the paper's own orientation of each table
ALL_TABLES = {**TABLES, PUBLISHED_TABLE: PUBLISHED_TITLE}
# Plain text (no Markdown): the same words go into the Markdown, HTML and LaTeX outputs.
LEGEND = ("Values are points (score x 100). paper = the paper's number; leaderboard = the published mteb result "
          "for that checkpoint (reference folder); ours = the results read here; delta = ours - paper (in the "
          "published table: ours - leaderboard); delta lb = ours - leaderboard. OK: |delta| <= tol; FAIL: outside; "
          f"PARTIAL: only part of the set was run ({INCOMPLETE} n/N: mean over the available part, never compared, "
          "never filled with 0); MISSING: not run; NO_PAPER: the paper prints no value for that cell (or the model "
          "has no paper row). 'paper vs lb' says disagree when the paper's own number and the published result of "
          "the same checkpoint differ by more than the tolerance: the paper's number is then not reproducible from "
          "the published checkpoint. A variant (local, quantised or fine-tuned weights) is shown against the "
          "published checkpoint it stands for, labelled as such, and not counted.")


def fmt(v, digits: int = 2, signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    v = round(float(v), digits) + 0.0  # + 0.0 turns -0.0 into 0.0: a zero delta reads "+0.00", not "-0.00"
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def shown(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells a reader needs: runs only (paper models without results are in tables/verdicts.csv), and for a
    model without a paper row only the rows it has values for."""
    ran = cells["relation"] != NOT_RUN
    return cells[ran & ~((cells["relation"] == OTHER) & cells["ours"].isna())]


def sections(cells: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(table_id, title, cells) in the paper's order, the published table last; tables no run reaches are left out
    (see `tables_not_run`)."""
    out = []
    for tid, title in ALL_TABLES.items():
        sub = shown(cells[cells["table_id"] == tid])
        if not sub.empty:
            out.append((tid, title, sub))
    return out


def tables_not_run(cells: pd.DataFrame) -> list[str]:
    """Titles of the paper tables with values of no run here (their paper values: tables/verdicts.csv)."""
    return [title for tid, title in TABLES.items() if shown(cells[cells["table_id"] == tid]).empty]


def table_note(table_id: str) -> str:
    return TABLE_NOTES.get(table_id, "")


def _ours_text(row) -> str:
    if row["n"] and row["n"] != row["n_expected"]:  # partial mean: show it, but marked
        return f"{fmt(row['ours'])}{INCOMPLETE} ({row['n']}/{row['n_expected']})"
    return fmt(row["ours"])


def _model_key(col: pd.Series) -> pd.Series:
    """Paper models in the paper's order first, then everything else alphabetically."""
    if col.name != "model":
        return col
    rank = {m: i for i, m in enumerate(PAPER_MODELS)}
    return col.map(lambda m: f"{rank.get(m, 99):02d}{m}")


def cell_view(cells: pd.DataFrame) -> pd.DataFrame:
    """One line per cell, grouped by model: row | model | metric | paper | leaderboard | ours | delta | delta lb |
    tol | verdict | paper vs lb | note (a variant's label leads the note)."""
    c = cells.sort_values(["model", "order"], key=_model_key, kind="stable")
    # A row the paper names differently from mteb (CQADupstack) shows both names.
    renamed = (c["task"] != c["paper_row"]) & (c["table_id"] == "table7") & (c["task"] != "MTEB(eng, v1)")
    row = c["paper_row"].where(~renamed, c["task"] + " (paper: " + c["paper_row"] + ")")
    note = [" | ".join(x for x in (r, n) if x) for r, n in zip(c["relation_note"].fillna(""), c["note"].fillna(""),
                                                                 strict=True)]
    metric = c["metric"].where(c["family"] != PUBLISHED_TABLE, "main score (" + c["subset"] + ")")
    return pd.DataFrame({
        "row": row, "model": c["model"], "metric": metric,
        "paper": [fmt(v, 1) for v in c["paper"]], "leaderboard": [fmt(v) for v in c["leaderboard"]],
        "ours": [_ours_text(r) for _, r in c.iterrows()], "delta": [fmt(v, signed=True) for v in c["delta"]],
        "delta lb": [fmt(v, signed=True) for v in c["delta_lb"]], "tol": [fmt(v, 1) for v in c["tolerance"]],
        "verdict": c["verdict"], "paper vs lb": ["disagree" if d else "" for d in c["disagree"]], "note": note,
    })


def paper_name(model: str) -> str:
    """The paper's short name for its models (mE5-small ...), the hub id otherwise."""
    return PAPER_MODELS.get(model, model)


def paper_layout(cells: pd.DataFrame, table_id: str, value: str = "ours") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(numbers, partial) in the paper's layout (models as rows for Tables 3-5, as columns otherwise): `partial`
    is True where our value is a mean over part of the set (shown marked, never as a complete number)."""
    c = shown(cells[cells["table_id"] == table_id])
    c = c.assign(col=c["paper_row"] + (" " + c["metric"].str.replace("_at_", "@")).where(
        c["table_id"].isin(["table6", "mrtydi_card"]), ""), partial=c["n"].ne(c["n_expected"]) & c["n"].gt(0))
    index, columns = list(dict.fromkeys(c["col"])), list(dict.fromkeys(c["model"]))
    frames = []
    for field in (value, "partial"):
        wide = c.pivot_table(index="col", columns="model", values=field, aggfunc="first", sort=False)
        wide = wide.reindex(index=index, columns=columns)
        wide = wide.T if table_id in MODELS_AS_ROWS else wide
        wide.index.name = wide.columns.name = None
        frames.append(wide)
    return frames[0].astype(float), frames[1].fillna(False).astype(bool)


def leaderboard_view(values: pd.DataFrame, coverage: pd.DataFrame, column: str) -> pd.DataFrame:
    """Leaderboard as strings, sorted by `column`; partial means carry a dagger and n/N."""
    v = sort_by(values, column, coverage)
    cov = coverage.loc[v.index]
    out = v[["model", "source"]].copy()
    for col in v.columns[2:]:
        out[col] = [fmt(x) + (f"{INCOMPLETE} ({c})" if c and fmt(x) else "")
                    for x, c in zip(v[col], cov[col], strict=True)]
    return out


def mrtydi_instruction_note(values: pd.DataFrame, columns: list[str] | None = None) -> str:
    """The note a leaderboard needs when it shows Mr.TyDi values of a model run with this project's instruction
    (``columns``: the Mr.TyDi columns; None = every value column, the per-language Mr.TyDi table)."""
    cols = [c for c in values.columns[2:] if columns is None or c in columns]
    mine = values[values["model"].isin(MRTYDI_OWN_INSTRUCTION)]
    return MRTYDI_INSTRUCTION_NOTE if cols and mine[cols].notna().to_numpy().any() else ""


def leaderboard_mrtydi_note(leaderboard: pd.DataFrame) -> str:
    return mrtydi_instruction_note(leaderboard, [c for c in leaderboard.columns if "Mr.TyDi" in c])


def problems_view(problems) -> pd.DataFrame:
    return pd.DataFrame([{"severity": p.severity, "where": p.where, "problem": p.what} for p in problems],
                        columns=["severity", "where", "problem"])


def counts_view(cells: pd.DataFrame) -> pd.DataFrame:
    """Compact: one row per model that was run, one column per table, each cell 'OK/FAIL/PARTIAL/MISSING'."""
    long = per_table_counts(shown(cells))
    if long.empty:
        return pd.DataFrame(columns=["model"])
    long["cell"] = long[["OK", "FAIL", "PARTIAL", "MISSING"]].astype(str).agg("/".join, axis=1)
    wide = long.pivot(index="model", columns="table_id", values="cell").fillna("")
    wide = wide[[t for t in ALL_TABLES if t in wide.columns]]
    wide = wide.loc[sorted(wide.index, key=lambda m: (m not in PAPER_MODELS, m))]
    wide.columns = [f"{t} OK/FAIL/PARTIAL/MISSING" for t in wide.columns]
    return wide.reset_index()
