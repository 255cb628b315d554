"""The paper's numbers: results/paper/*.csv (one file per table, one row per cell, see its README.md)."""

from __future__ import annotations

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
PAPER_MODELS = {  # hub id -> short name the paper uses
    "intfloat/multilingual-e5-small": "mE5-small",
    "intfloat/multilingual-e5-base": "mE5-base",
    "intfloat/multilingual-e5-large": "mE5-large",
    "intfloat/multilingual-e5-large-instruct": "mE5-large-instruct",
}


def load_paper(paper_dir: str | Path) -> pd.DataFrame:
    """All paper cells; empty `value` = not recovered (kept as NaN, never 0). `order` keeps the file order."""
    paper_dir = Path(paper_dir)
    files = sorted(paper_dir.glob("*.csv"))
    if not files:
        raise MissingDataError("the paper tables", [paper_dir / "*.csv"],
                               "restore results/paper/ from git or set paper_dir in conf/report.yaml")
    frames = [pd.read_csv(f, dtype={"subset": str, "value": float}, keep_default_na=False,
                          na_values={"value": [""]}) for f in files]
    df = pd.concat(frames, ignore_index=True)
    if missing := set(PAPER_COLUMNS) - set(df.columns):
        raise MissingDataError(f"paper columns {sorted(missing)}", files, "see results/paper/README.md")
    df["derived"] = df["derived"].astype(str).str.lower().eq("true")
    df["table_rank"] = df["table_id"].map({t: i for i, t in enumerate(TABLES)}).fillna(len(TABLES))
    df = df.sort_values("table_rank", kind="stable").reset_index(drop=True)
    df["order"] = range(len(df))
    return df.drop(columns="table_rank")


def paper_files(paper_dir: str | Path) -> list[Path]:
    return sorted(Path(paper_dir).glob("*.csv"))


def paper_model_ids(paper: pd.DataFrame) -> set[str]:
    return set(paper["model"])
