"""LaTeX: our values in the paper's layout under the paper's model names (mE5-small ...), the best value in bold as
the paper does, partial means marked with a dagger (never shown as complete), plus the verdict tables.

A standalone document that compiles with texlive-latex-base alone (longtable, geometry; booktabs when installed).
Written by hand rather than with pandas' Styler: the dagger marks, per-row/column bold and the escaping of every
string (model names, notes, paths) need control Styler does not give.
"""

from __future__ import annotations

import math
import unicodedata

import pandas as pd

from evaluation.report import present
from evaluation.report.tables import LEADERBOARD_COLUMNS, sort_by

PREAMBLE = r"""\documentclass{article}
\usepackage[margin=1.5cm,landscape]{geometry}
\usepackage{longtable}
\IfFileExists{booktabs.sty}{\usepackage{booktabs}}{%
  \newcommand{\toprule}{\hline}\newcommand{\midrule}{\hline}\newcommand{\bottomrule}{\hline}}
\begin{document}
"""
_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
             "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "|": r"\textbar{}", "<": r"\textless{}",
             ">": r"\textgreater{}", present.INCOMPLETE: r"\dag{}", "\u2260": r"$\neq$"}
_MTEB_COLUMNS = [c for c, key in LEADERBOARD_COLUMNS.items() if key[0] == "MTEB(eng, v1)"]


def esc(text) -> str:
    """Any string -> LaTeX that compiles with pdflatex's default fonts: specials escaped, accents dropped,
    other non-ASCII characters shown as '?'."""
    out = []
    for ch in str(text):
        if ch in _SPECIALS:
            out.append(_SPECIALS[ch])
        elif ch.isascii():
            out.append(ch)
        else:
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(esc(plain) if plain else "?")
    return "".join(out)


def _longtable(header: list[str], rows: list[list[str]], caption: str, align: str, size: str = r"\small") -> str:
    head = " & ".join(header) + r" \\"
    body = "\n".join(" & ".join(r) + r" \\" for r in rows)
    return (f"{{{size}\n\\begin{{longtable}}{{{align}}}\n\\caption{{{caption}}}\\\\\n\\toprule\n{head}\n\\midrule\n"
            f"\\endhead\n{body}\n\\bottomrule\n\\end{{longtable}}}}\n\n")


def _best(values: pd.DataFrame, partial: pd.DataFrame, axis: int | None) -> pd.DataFrame:
    """True where a complete value is the best of its column (axis=0) or row (axis=1); partial means never win."""
    complete = values.where(~partial)
    if axis is None:
        return pd.DataFrame(False, index=values.index, columns=values.columns)
    best = complete.max(axis=axis)  # per column (axis=0): a Series over columns, compared along each row
    return complete.eq(best, axis=1 if axis == 0 else 0)


def latex_values(values: pd.DataFrame, partial: pd.DataFrame, caption: str, best_axis: int | None) -> str:
    """Numeric table, 1 decimal like the paper; -- = not run; dagger = mean over part of the set."""
    best = _best(values, partial, best_axis)
    rows = []
    for label, row in values.iterrows():
        cells = [esc(present.paper_name(str(label)))]
        for col, v in row.items():
            if v is None or math.isnan(v):
                cells.append("--")
                continue
            text = f"{v:.1f}" + (r"\textsuperscript{\dag}" if partial.at[label, col] else "")
            cells.append(rf"\textbf{{{text}}}" if best.at[label, col] else text)
        rows.append(cells)
    header = [""] + [esc(present.paper_name(str(c))) for c in values.columns]
    return _longtable(header, rows, caption, "l" + "r" * values.shape[1])


def latex_text(df: pd.DataFrame, caption: str) -> str:
    """String table (verdicts, problems): a longtable, so it may span pages."""
    if df.empty:
        return f"% {esc(caption)}: none\n"
    rows = [[esc(present.paper_name(v) if col == "model" else v) for col, v in r.items()] for _, r in df.iterrows()]
    return _longtable([esc(c) for c in df.columns], rows, caption, "l" * df.shape[1], size=r"\scriptsize")


def _leaderboard(report) -> list[str]:
    """Complete means in bold where best; partial ones with a dagger; two tables (MTEB-en, multilingual)."""
    lb = sort_by(report.leaderboard, report.settings.sort_by, report.coverage)
    cov = report.coverage.loc[lb.index]
    label = lb["model"].map(present.paper_name) + " (" + lb["source"] + ")"
    values = lb.drop(columns=["model", "source"]).set_axis(label.to_list())
    partial = cov.drop(columns=["model", "source"]).ne("").set_axis(label.to_list())
    out = []
    for title, cols in (("MTEB English", _MTEB_COLUMNS),
                        ("multilingual", [c for c in LEADERBOARD_COLUMNS if c not in _MTEB_COLUMNS])):
        v = values[cols].dropna(how="all").dropna(axis=1, how="all")
        if not v.empty:
            out.append(latex_values(v, partial.loc[v.index, v.columns], f"Leaderboard, {title} (-- = not run; "
                                    r"\dag{} = mean over part of the set)", 0))
    return out


def render_latex(report) -> str:
    parts = [PREAMBLE, f"\\section*{{me5-eval report: {esc(report.name)}}}\n",
             f"Summary: {esc(report.summary)}.\n\nBold: best complete value per column (Tables 3--5, leaderboard) "
             "or per row (Tables 6, 7, Mr.TyDi); \\dag{}: mean over part of the set (not comparable with the "
             "paper); --: not run.\n\n"]
    for tid, title, cells in present.sections(report.cells):
        if tid == "published":
            continue
        values, partial = present.paper_layout(cells, tid, "ours")
        keep = values.notna().any(axis=1)
        values, partial = values[keep], partial[keep]
        keep_cols = values.notna().any(axis=0)
        values, partial = values.loc[:, keep_cols], partial.loc[:, keep_cols]
        if not values.empty:
            note = f" {esc(present.table_note(tid))}" if present.table_note(tid) else ""
            parts.append(latex_values(values, partial, f"{esc(title)} (ours).{note}",
                                      0 if tid in present.MODELS_AS_ROWS else 1))
    parts += _leaderboard(report)
    parts.append(latex_text(present.counts_view(report.cells), "Verdicts per table and model"))
    for _tid, title, cells in present.sections(report.cells):
        parts.append(latex_text(present.cell_view(cells).drop(columns="note"), f"{esc(title)}: reference vs ours"))
    parts.append(latex_text(present.problems_view(report.problems), "Problems"))
    return "".join(parts) + "\\end{document}\n"
