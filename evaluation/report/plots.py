"""Plots (matplotlib, Agg backend, PNG + SVG): per-language bars ours vs paper, and ours-vs-paper scatter."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers/CI; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from evaluation.report.aggregate import MRTYDI_ISO, miracl_langs, task_subsets  # noqa: E402
from evaluation.report.tables import paper_model_for  # noqa: E402

# suite -> (task, metric, paper table with per-language values, title)
SUITES = {
    "miracl": ("MIRACLRetrieval", "ndcg_at_10", "table6", "MIRACL dev nDCG@10"),
    "mrtydi": ("MrTidyRetrieval", "mrr_at_10", "mrtydi_card", "Mr.TyDi test MRR@10"),
    "tatoeba": ("Tatoeba", "f1", None, "Tatoeba F1 (paper reports the 112-pair mean only: dashed line)"),
}
COLORS = {"ours": "#1f77b4", "paper": "#ff7f0e", "leaderboard": "#7f7f7f"}


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


def _series(report, suite: str) -> list[tuple[str, dict[str, np.ndarray], float]]:
    """Per model with data: {ours, paper, leaderboard} arrays and the paper's average (NaN if none)."""
    task, metric, table, _ = SUITES[suite]
    subs = [s for s, _ in _subsets(suite)]
    paper_ids = set(report.paper["model"])
    out = []
    for s in report.ours:
        ours = _values(s.scores, task, metric, subs)
        if np.isnan(ours).all():
            continue
        pid = paper_model_for(s.run, paper_ids, report.settings)
        p = report.paper[(report.paper["model"] == pid) & (report.paper["task"] == task)]
        per_lang = p[(p["table_id"] == table) & (p["metric"] == metric)] if table else p.iloc[0:0]
        paper = _values(per_lang, task, metric, subs)
        avg = p[p["subset"].isin(["average", "avg16"]) & (p["metric"] == metric)]["value"]
        ref = report.refs.get(pid) if pid else None
        lb = _values(ref, task, metric, subs) if ref is not None and ref is not s.scores else np.full(len(subs), np.nan)
        out.append((s.run.name, {"ours": ours, "paper": paper, "leaderboard": lb},
                    float(avg.iloc[0]) if len(avg) else np.nan))
    return out


def plot_languages(report, suite: str):
    """One figure, one panel per model: grouped bars per language (ours / paper / leaderboard)."""
    series = _series(report, suite)
    if not series:
        return None
    labels = [lab for _, lab in _subsets(suite)]
    if suite == "tatoeba":  # 112 pairs: show only those someone has a value for
        keep = [i for i in range(len(labels)) if any(not np.isnan(b[k][i]) for _, b, _ in series for k in b)]
        labels = [labels[i] for i in keep]
        series = [(n, {k: v[keep] for k, v in b.items()}, a) for n, b, a in series]
    width_in = max(8.0, 0.16 * len(labels) * 3)
    fig, axes = plt.subplots(len(series), 1, figsize=(width_in, 2.8 * len(series)), squeeze=False)
    x = np.arange(len(labels))
    for ax, (name, bars, avg) in zip(axes[:, 0], series, strict=True):
        shown = [k for k, v in bars.items() if not np.isnan(v).all()]
        w = 0.8 / len(shown)
        for i, k in enumerate(shown):
            ax.bar(x + (i - (len(shown) - 1) / 2) * w, np.nan_to_num(bars[k]), w, label=k, color=COLORS[k])
        if not np.isnan(avg):
            ax.axhline(avg, ls="--", color=COLORS["paper"], lw=1, label=f"paper average {avg:.1f}")
        ax.set_title(name, fontsize=9)
        ax.set_xticks(x, labels, rotation=90 if len(labels) > 20 else 0, fontsize=6 if len(labels) > 20 else 8)
        ax.set_xlim(-0.6, len(labels) - 0.4)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # outside: never hides a bar
    fig.suptitle(SUITES[suite][3], fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    return fig


def plot_scatter(cells: pd.DataFrame):
    """Every compared cell: ours (y) vs paper (x); on the diagonal = reproduced."""
    c = cells[cells["verdict"].isin(["OK", "FAIL"])]
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


def write_plots(report, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    figs = {f"languages_{s}": plot_languages(report, s) for s in SUITES}
    figs["scatter_ours_vs_paper"] = plot_scatter(report.cells)
    written = []
    for name, fig in figs.items():
        if fig is None:
            continue
        for ext in ("png", "svg"):
            fig.savefig(out_dir / f"{name}.{ext}", dpi=100)
            written.append(out_dir / f"{name}.{ext}")
        plt.close(fig)
    return written
