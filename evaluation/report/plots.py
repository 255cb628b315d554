"""Plots (matplotlib, Agg backend, PNG + SVG): per-language values ours vs paper vs leaderboard, and ours vs paper.

MIRACL (18 languages) and Mr.TyDi (11): grouped bars, one panel per model. Tatoeba (112 pairs): a sorted dot plot
split into side-by-side panels of at most 28 languages, so that every label is readable on a laptop screen.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers/CI; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from evaluation.report.aggregate import MRTYDI_ISO, miracl_langs, task_subsets  # noqa: E402
from evaluation.report.settings import MRTYDI_METRIC  # noqa: E402
from evaluation.report.tables import target_of  # noqa: E402

# suite -> (task, metric, paper table with per-language values, title)
SUITES = {
    "miracl": ("MIRACLRetrieval", "ndcg_at_10", "table6", "MIRACL dev nDCG@10"),
    "mrtydi": ("MrTidyRetrieval", MRTYDI_METRIC, "mrtydi_card", "Mr.TyDi test MRR@10"),
    "tatoeba": ("Tatoeba", "f1", None, "Tatoeba F1 per language (the paper reports the 112-pair mean only: "
                                       "dashed line)"),
}
COLORS = {"ours": "#1f77b4", "paper": "#ff7f0e", "leaderboard": "#7f7f7f"}
ROWS_PER_PANEL = 28  # Tatoeba: 112 pairs = 4 panels of 28 rows on a 16 x 9 inch (laptop-shaped) figure


def _subsets(suite: str) -> list[tuple[str, str]]:
    """(mteb hf_subset, axis label)."""
    if suite == "miracl":
        return [(x, x) for x in miracl_langs(18)]
    if suite == "mrtydi":
        return list(MRTYDI_ISO.items())
    return [(x, x.split("-")[0]) for x in task_subsets("Tatoeba")]


def _values(scores: pd.DataFrame | None, task: str, metric: str, subsets: list[str]) -> np.ndarray:
    if scores is None:
        return np.full(len(subsets), np.nan)
    s = scores[(scores["task"] == task) & (scores["metric"] == metric)].set_index("subset")["value"]
    return np.array([s.get(x, np.nan) for x in subsets], dtype=float)


def _series(report, suite: str) -> list[tuple[str, dict[str, np.ndarray], float, str | None]]:
    """Per model with data: {ours, paper, leaderboard} arrays, the paper's average (NaN if none) and the checkpoint
    whose published (leaderboard) values these are (a variant's reference model, not the variant)."""
    task, metric, table, _ = SUITES[suite]
    subs = [s for s, _ in _subsets(suite)]
    known = set(report.paper["model"]) | set(report.refs)
    out = []
    for s in report.ours:
        ours = _values(s.scores, task, metric, subs)
        if np.isnan(ours).all():
            continue
        target, _ = target_of(s.run, known, report.settings)
        p = report.paper[(report.paper["model"] == target) & (report.paper["task"] == task)]
        per_lang = p[(p["table_id"] == table) & (p["metric"] == metric)] if table else p.iloc[0:0]
        avg = p[p["subset"].isin(["average", "avg16"]) & (p["metric"] == metric)]["value"]
        ref = report.refs.get(target) if target else None
        lb = _values(ref, task, metric, subs) if ref is not None and ref is not s.scores else np.full(len(subs), np.nan)
        out.append((s.run.name, {"ours": ours, "paper": _values(per_lang, task, metric, subs), "leaderboard": lb},
                    float(avg.iloc[0]) if len(avg) else np.nan, target))
    return out


def plot_bars(series, labels: list[str], title: str):
    """One panel per model: grouped bars per language (ours / paper / leaderboard)."""
    fig, axes = plt.subplots(len(series), 1, figsize=(max(8.0, 0.5 * len(labels)), 2.8 * len(series)),
                             squeeze=False)
    x = np.arange(len(labels))
    for ax, (name, bars, avg, _) in zip(axes[:, 0], series, strict=True):
        shown = [k for k, v in bars.items() if not np.isnan(v).all()]
        w = 0.8 / len(shown)
        for i, k in enumerate(shown):
            ax.bar(x + (i - (len(shown) - 1) / 2) * w, np.nan_to_num(bars[k]), w, label=k, color=COLORS[k])
        if not np.isnan(avg):
            ax.axhline(avg, ls="--", color=COLORS["paper"], lw=1, label=f"paper average {avg:.1f}")
        ax.set_title(name, fontsize=9)
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_xlim(-0.6, len(labels) - 0.4)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # outside: never hides a bar
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    return fig


def plot_dots(series, labels: list[str], title: str):
    """Languages sorted by the first model's score, best first, in columns of ROWS_PER_PANEL rows; a dot per
    model (ours), a grey cross for the leaderboard, dashed lines for the paper's averages."""
    keep = [i for i in range(len(labels)) if any(not np.isnan(v[i]) for _, b, *_ in series for v in b.values())]
    first = series[0][1]["ours"]
    keep.sort(key=lambda i: (np.isnan(first[i]), -np.nan_to_num(first[i])))
    panels = [keep[i:i + ROWS_PER_PANEL] for i in range(0, len(keep), ROWS_PER_PANEL)]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 9), squeeze=False, sharex=True)
    colors = plt.get_cmap("tab10").colors
    for ax, rows in zip(axes[0], panels, strict=True):
        y = np.arange(len(rows))[::-1]  # best at the top
        for k, (name, vals, avg, target) in enumerate(series):
            ax.plot(vals["ours"][rows], y, "o", ms=5, color=colors[k % 10], label=f"{name} (ours)")
            lb = vals["leaderboard"]
            if not np.isnan(lb[rows]).all():
                ax.plot(lb[rows], y, "x", ms=5, color=COLORS["leaderboard"], label=f"{target} (leaderboard)")
            if not np.isnan(lb[keep]).any():  # a mean only over every plotted language
                ax.axvline(float(np.mean(lb[keep])), ls=":", lw=1, color=COLORS["leaderboard"],
                           label=f"{target}: leaderboard mean {np.mean(lb[keep]):.2f}")
            if not np.isnan(avg):
                ax.axvline(avg, ls="--", lw=1, color=colors[k % 10], label=f"{target or name}: paper mean {avg:.1f}")
        ax.set_yticks(y, [labels[i] for i in rows], fontsize=8)
        ax.set_ylim(-0.7, ROWS_PER_PANEL - 0.3 if len(panels) > 1 else len(rows) - 0.3)
        ax.grid(axis="x", color="#ddd", lw=0.5)
        ax.set_xlabel("F1 (points)", fontsize=8)
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", ncol=min(4, len(names)), fontsize=8, bbox_to_anchor=(0.5, 0.96))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return fig


def plot_languages(report, suite: str):
    series = _series(report, suite)
    if not series:
        return None
    labels = [lab for _, lab in _subsets(suite)]
    plot = plot_dots if suite == "tatoeba" else plot_bars
    return plot(series, labels, SUITES[suite][3])


def plot_scatter(cells: pd.DataFrame):
    """Every compared paper cell: ours (y) vs paper (x); on the diagonal = reproduced."""
    c = cells[cells["verdict"].isin(["OK", "FAIL"]) & cells["family"].eq("paper")]
    if c.empty:
        return None
    fig, ax = plt.subplots(figsize=(6, 6))
    for v, color in (("OK", "#2ca02c"), ("FAIL", "#d62728")):
        sub = c[c["verdict"] == v]
        ax.scatter(sub["paper"], sub["ours"], s=12, color=color, label=f"{v} ({len(sub)})", alpha=0.8)
    lo, hi = float(min(c["paper"].min(), c["ours"].min())) - 2, float(max(c["paper"].max(), c["ours"].max())) + 2
    ax.plot([lo, hi], [lo, hi], color="#888", lw=1)
    ax.set(xlim=(lo, hi), ylim=(lo, hi), xlabel="paper", ylabel="ours", title="Ours vs paper, all cells")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_series(scores: pd.DataFrame, best: pd.DataFrame, title: str):
    """A checkpoint series: one small panel per task / suite average / overall mean, checkpoints in the order
    given on the x axis, the best checkpoint of each panel starred."""
    rows = [r for r in scores.index if scores.loc[r].notna().any()]
    ncols = min(4, len(rows))
    nrows = -(-len(rows) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 2.6 * nrows), squeeze=False)
    x = np.arange(scores.shape[1])
    best_of = best.set_index("row")["best"].to_dict()
    for ax, row in zip(axes.ravel(), rows, strict=False):
        y = scores.loc[row].to_numpy(dtype=float)
        ax.plot(x, y, "o-", color=COLORS["ours"], ms=4)
        if (b := best_of.get(row)) in scores.columns:
            i = list(scores.columns).index(b)
            ax.plot([x[i]], [y[i]], "*", ms=12, color=COLORS["paper"])
        ax.set_title(row, fontsize=9)
        ax.set_xticks(x, scores.columns, rotation=30 if scores.shape[1] > 4 else 0, fontsize=7, ha="right")
        ax.grid(axis="y", color="#ddd", lw=0.5)
    for ax in axes.ravel()[len(rows):]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def save(fig, out_dir: Path, name: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.{ext}" for ext in ("png", "svg")]
    for path in paths:
        fig.savefig(path, dpi=100)
    plt.close(fig)
    return paths


def write_plots(report, out_dir: Path) -> list[Path]:
    figs = {f"languages_{s}": plot_languages(report, s) for s in SUITES}
    figs["scatter_ours_vs_paper"] = plot_scatter(report.cells)
    return [p for name, fig in figs.items() if fig is not None for p in save(fig, out_dir, name)]
