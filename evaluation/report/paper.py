"""The paper's numbers: evaluation/report/paper_tables/*.csv (one file per table, one row per cell, see its
README.md), shipped as package data so that a plain `pip install .` reports too."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import pandas as pd

from evaluation.errors import MissingDataError

PAPER_COLUMNS = ["table_id", "table", "paper_row", "paper_model", "model", "task", "subset", "metric", "value",
                 "derived", "source", "note"]
# Display order and titles; also the order in which duplicate paper keys are resolved (Table 3 before 7).
TABLES = {
    "table3": "Table 3: MTEB English (56 datasets), average",
    "table4": "Table 4: MIRACL dev, average over 16 languages",
    "table5": "Table 5: bitext mining (BUCC 2018, Tatoeba), F1",
    "table6": "Appendix Table 6: MIRACL dev per language",
    "table7": "Appendix Table 7: MTEB English per dataset (+ derived category means)",
    "mrtydi_card": "Model cards: Mr.TyDi test (MRR@10, R@100)",
}
# Caveats a reader needs next to a table (shown under its title in every format).
TABLE_NOTES = {
    "table5": "mE5-small: the paper's Tatoeba and BUCC numbers differ from the published results of the pinned "
              "checkpoint (see the rows' notes); such cells carry the paper-vs-leaderboard marker.",
}
# Models whose Mr.TyDi numbers rest on a choice of this project, not the authors': mE5-large-instruct has no
# Mr.TyDi instruction in the authors' table, so its runs use the MIRACL instruction (evaluation/models/instructions.py).
MRTYDI_OWN_INSTRUCTION = ("intfloat/multilingual-e5-large-instruct",)
MRTYDI_INSTRUCTION_NOTE = ("mE5-large-instruct: the authors give no Mr.TyDi instruction (their instruction table has "
                           "none), so its Mr.TyDi runs use this project's choice, the MIRACL instruction "
                           "(evaluation/models/instructions.py): not the authors' protocol.")
TABLE_NOTES["mrtydi_card"] = "mE5-large-instruct has no row here. " + MRTYDI_INSTRUCTION_NOTE
PAPER_MODELS = {  # hub id -> short name the paper uses
    "intfloat/multilingual-e5-small": "mE5-small",
    "intfloat/multilingual-e5-base": "mE5-base",
    "intfloat/multilingual-e5-large": "mE5-large",
    "intfloat/multilingual-e5-large-instruct": "mE5-large-instruct",
}


def packaged_tables() -> Traversable:
    """The paper tables inside the installed package (a plain folder in a checkout or a wheel install)."""
    return resources.files("evaluation.report") / "paper_tables"


def paper_files(paper_dir: str | Path | None = None) -> list[Traversable]:
    """The table CSVs: `paper_dir` when given (evaluation/conf/report.yaml `paper_dir`), else the packaged ones."""
    root = Path(paper_dir) if paper_dir else packaged_tables()
    if not root.is_dir():
        return []
    return sorted((f for f in root.iterdir() if f.name.endswith(".csv")), key=lambda f: f.name)


def load_paper(paper_dir: str | Path | None = None) -> pd.DataFrame:
    """All paper cells; empty `value` = not recovered (kept as NaN, never 0). `order` keeps the file order."""
    files = paper_files(paper_dir)
    if not files:
        raise MissingDataError("the paper tables", [Path(str(paper_dir or packaged_tables())) / "*.csv"],
                               "set paper_dir in evaluation/conf/report.yaml to a folder of table CSVs, or null for "
                               "the tables shipped with the package (evaluation/report/paper_tables/)")
    frames = []
    for f in files:
        with f.open("r", encoding="utf-8") as fh:
            frames.append(pd.read_csv(fh, dtype={"subset": str, "value": float}, keep_default_na=False,
                                      na_values={"value": [""]}))
    df = pd.concat(frames, ignore_index=True)
    if missing := set(PAPER_COLUMNS) - set(df.columns):
        raise MissingDataError(f"paper columns {sorted(missing)}", [Path(str(f)) for f in files],
                               "see evaluation/report/paper_tables/README.md for the columns")
    df["derived"] = df["derived"].astype(str).str.lower().eq("true")
    df["table_rank"] = df["table_id"].map({t: i for i, t in enumerate(TABLES)}).fillna(len(TABLES))
    df = df.sort_values("table_rank", kind="stable").reset_index(drop=True)
    df["order"] = range(len(df))
    return df.drop(columns="table_rank")
