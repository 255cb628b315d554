"""Write a comparison: compare.md, compare.html (sortable tables), CSVs, compare.json; a checkpoint series also
gets series.md / series.html / series.csv and its curves (plots/series.png|svg)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from evaluation.atomic import atomic_write_text
from evaluation.report.present import fmt, problems_view
from evaluation.report.render_html import CSS, JS, html_table
from evaluation.report.render_md import md_table

EXPLAIN = ("delta = B - A in points (score x 100) on the metric each task reports. The tests recompute that metric "
           "from per-item outputs paired by id: a paired permutation test (A's and B's outputs swapped per item; "
           "for bitext F1 and STS Spearman the corpus-level statistic is recomputed, never averaged per item) and a "
           "stratified paired bootstrap 95% interval, both with a fixed seed. p_holm: Holm correction across tasks "
           "(task table) and across the subsets of a task (subset table); subsets_differ names subsets whose own "
           "test disagrees with their task's verdict. Where per-item files are missing only the delta is shown.")
SERIES_EXPLAIN = ("One score per task and checkpoint (mean over the subsets every checkpoint ran), the suite averages "
                  "(the paper's rules, complete means only) and the mean over the tasks every checkpoint ran. For each "
                  "row: the best checkpoint and a paired permutation test against the next best on that row's score.")


def _view(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in ("score_a", "score_b", "a", "b", "ci_low", "ci_high", "best_score", "next_score"):
        if col in out:
            out[col] = [fmt(v) for v in out[col]]
    if "delta" in out:
        out["delta"] = [fmt(v, signed=True) for v in out["delta"]]
    for col in ("n_subsets", "n_items", "wins", "ties", "losses"):  # counts: NaN made them floats
        if col in out:
            out[col] = [fmt(v, 0) for v in out[col]]
    for col in ("p", "p_holm"):
        if col in out:
            out[col] = [fmt(v, 4) for v in out[col]]
    return out.astype(object).fillna("")


def _sections(res) -> list[tuple[str, pd.DataFrame]]:
    return [("Per task", _view(res.tasks)), ("Per language / subset", _view(res.subsets)),
            (f"Largest per-item differences (top {res.settings.top_items} per task)", _view(res.top_items)),
            ("Problems", problems_view(res.problems))]


def _page(title: str, body: list[str]) -> str:
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>" + "\n".join(body) + f"<script>{JS}</script></body></html>\n")


def render_compare_md(res) -> str:
    parts = [f"# Compare: B = {res.model_b} vs A = {res.model_a}\n", f"**{res.summary}**\n", EXPLAIN + "\n"]
    parts += [f"- {n}" for n in res.notes] + [""]
    for title, df in _sections(res):
        parts += [f"## {title}\n", md_table(df)]
    return "\n".join(parts)


def render_compare_html(res) -> str:
    esc = html.escape
    body = [f"<h1>Compare: B = {esc(res.model_b)} vs A = {esc(res.model_a)}</h1>",
            f'<p class="summary">{esc(res.summary)}</p><p>{esc(EXPLAIN)}</p>',
            "<ul>" + "".join(f"<li>{esc(n)}</li>" for n in res.notes) + "</ul>"]
    for title, df in _sections(res):
        body += [f"<h2>{esc(title)}</h2>", html_table(df)]
    return _page("compare", body)


def write_compare(res, out_dir: Path, command: list[str] | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in (("compare_tasks", res.tasks), ("compare_subsets", res.subsets),
                     ("compare_top_items", res.top_items), ("compare_problems", problems_view(res.problems))):
        atomic_write_text(out_dir / f"{name}.csv", df.to_csv(index=False, float_format="%.6g"))
        written.append(out_dir / f"{name}.csv")
    for name, text in (("compare.md", render_compare_md(res)), ("compare.html", render_compare_html(res))):
        atomic_write_text(out_dir / name, text)
        written.append(out_dir / name)
    meta = {"model_a": res.model_a, "model_b": res.model_b, "summary": res.summary, "notes": res.notes,
            "settings": vars(res.settings), "command": command or []}
    atomic_write_text(out_dir / "compare.json", json.dumps(meta, indent=2))
    return [*written, out_dir / "compare.json"]


def series_table(res) -> pd.DataFrame:
    """Rows: tasks, suite averages, overall; columns: checkpoints, then best / next best / test."""
    scores = res.scores.map(fmt).reset_index(names="row")
    scores.insert(1, "kind", res.kind.to_numpy())
    best = _view(res.best[["row", "best", "best_score", "next", "next_score", "verdict"]])
    return scores.merge(best, on="row", how="left").fillna("")


def write_series(res, out_dir: Path, command: list[str] | None = None) -> list[Path]:
    from evaluation.report.plots import plot_series, save  # deferred: matplotlib is slow to import

    out_dir.mkdir(parents=True, exist_ok=True)
    table, esc = series_table(res), html.escape
    pngs = save(plot_series(res.scores, res.best, "Checkpoint series: " + ", ".join(res.labels)),
                out_dir / "plots", "series")
    atomic_write_text(out_dir / "series.csv", res.scores.join(res.best.set_index("row")).to_csv(
        index_label="row", float_format="%.6g"))
    notes = [f"- {n}" for n in res.notes]
    md = [f"# Checkpoint series: {', '.join(res.labels)}\n", f"**{res.summary}**\n", SERIES_EXPLAIN + "\n", *notes,
          "", md_table(table), "![series](plots/series.png)\n", "## Problems\n", md_table(problems_view(res.problems))]
    atomic_write_text(out_dir / "series.md", "\n".join(md))
    body = [f"<h1>Checkpoint series: {esc(', '.join(res.labels))}</h1>", f'<p class="summary">{esc(res.summary)}</p>',
            f"<p>{esc(SERIES_EXPLAIN)}</p>", "<ul>" + "".join(f"<li>{esc(n)}</li>" for n in res.notes) + "</ul>",
            html_table(table), '<img alt="series" src="plots/series.png">', "<h2>Problems</h2>",
            html_table(problems_view(res.problems))]
    atomic_write_text(out_dir / "series.html", _page("series", body))
    meta = {"checkpoints": res.labels, "summary": res.summary, "notes": res.notes, "settings": vars(res.settings),
            "command": command or []}
    atomic_write_text(out_dir / "series.json", json.dumps(meta, indent=2))
    return [out_dir / f for f in ("series.csv", "series.md", "series.html", "series.json")] + pngs
