"""LaTeX (booktabs): our values in the paper's layout with the best value in bold, as the paper does,
plus the verdict tables. A standalone document; copy single tables into a paper as needed."""

from __future__ import annotations

import pandas as pd

from evaluation.report import present as P

PREAMBLE = r"""\documentclass{article}
\usepackage[margin=1.5cm,landscape]{geometry}
\usepackage{booktabs,longtable}
\begin{document}
"""


def latex_values(wide: pd.DataFrame, caption: str, best_axis: int | None) -> str:
    """Numeric table, 1 decimal like the paper; best per column (axis=0) or per row (axis=1) in bold."""
    st = wide.style.format(precision=1, na_rep="--")
    st = st.format_index(escape="latex", axis=0).format_index(escape="latex", axis=1)
    if best_axis is not None:
        st = st.highlight_max(axis=best_axis, props="textbf:--rwrap;")
    return st.to_latex(hrules=True, caption=caption, position="h", position_float="centering",
                       column_format="l" + "r" * wide.shape[1]) + "\n"


def latex_text(df: pd.DataFrame, caption: str) -> str:
    """String table (verdicts, problems): longtable so it may span pages."""
    if df.empty:
        return f"% {caption}: none\n"
    st = df.style.hide(axis="index").format(escape="latex").format_index(escape="latex", axis=1)
    return st.to_latex(hrules=True, caption=caption, environment="longtable") + "\n"


def render_latex(report) -> str:
    parts = [PREAMBLE, f"\\section*{{me5-eval report: {_esc(report.name)}}}\n",
             f"Summary: {_esc(report.summary)}. Bold: best value per "
             "column (Tables 3--5, leaderboard) or per row (Tables 6, 7, Mr.TyDi).\n\n"]
    for tid, title, cells in P.sections(report.cells):
        wide = P.paper_layout(cells, tid, "ours").dropna(how="all")
        wide = wide.dropna(axis=1, how="all")
        if not wide.empty:
            axis = 0 if tid in P.MODELS_AS_ROWS else 1
            parts.append(latex_values(wide, f"{_esc(title)} (ours; -- = not run or incomplete)", axis))
    lb = P.sort_by(report.leaderboard, report.settings.sort_by, report.coverage)
    lb = lb.mask(report.coverage.loc[lb.index].ne("") & lb.columns.isin(lb.columns[2:]))  # complete means only
    lb = lb.assign(model=report.leaderboard.loc[lb.index, "model"] + " ("
                   + report.leaderboard.loc[lb.index, "source"] + ")").set_index("model").drop(columns="source")
    lb.index.name = None
    parts.append(latex_values(lb.dropna(axis=1, how="all"), "Leaderboard (-- = not run or incomplete)", 0))
    parts.append(latex_text(P.counts_view(report.cells), "Verdicts per table and model"))
    for _tid, title, cells in P.sections(report.cells):
        parts.append(latex_text(P.cell_view(cells).drop(columns="note"), f"{_esc(title)}: paper vs ours"))
    parts.append(latex_text(P.problems_view(report.problems), "Problems"))
    return "".join(parts) + "\\end{document}\n"


def _esc(text: str) -> str:
    """Escape free text (titles, summary) for LaTeX; tables go through Styler's own escaping."""
    for a, b in (("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"), ("$", r"\$"), ("|", r"\textbar{}")):
        text = text.replace(a, b)
    return text
