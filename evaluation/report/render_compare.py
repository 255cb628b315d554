"""Write a CompareResult: compare.md, compare.html (sortable tables), CSVs, compare.json."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from evaluation.report.present import fmt, problems_view
from evaluation.report.render_html import CSS, JS, html_table
from evaluation.report.render_md import md_table

EXPLAIN = ("delta = B - A in points (score x 100). Tests run on per-item scores paired by id: a paired "
           "randomisation test (sign flips) and a paired bootstrap 95% interval of the mean item delta, both with "
           "a fixed seed. p_holm: Holm correction across tasks (task table) and across the subsets of a task "
           "(subset table). Where per-item files are missing only the delta is shown.")


def _view(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in ("score_a", "score_b", "a", "b", "item_delta", "ci_low", "ci_high"):
        if col in out:
            out[col] = [fmt(v) for v in out[col]]
    if "delta" in out:
        out["delta"] = [fmt(v, signed=True) for v in out["delta"]]
    for col in ("p", "p_holm"):
        if col in out:
            out[col] = [fmt(v, 4) for v in out[col]]
    return out.astype(object).fillna("")


def _sections(res) -> list[tuple[str, pd.DataFrame]]:
    return [("Per task", _view(res.tasks)), ("Per language / subset", _view(res.subsets)),
            (f"Largest per-item differences (top {res.settings.top_items} per task)", _view(res.top_items)),
            ("Problems", problems_view(res.problems))]


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
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>compare</title>"
            f"<style>{CSS}</style></head><body>" + "\n".join(body) + f"<script>{JS}</script></body></html>\n")


def write_compare(res, out_dir: Path, command: list[str] | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in (("compare_tasks", res.tasks), ("compare_subsets", res.subsets),
                     ("compare_top_items", res.top_items), ("compare_problems", problems_view(res.problems))):
        df.to_csv(out_dir / f"{name}.csv", index=False, float_format="%.6g")
        written.append(out_dir / f"{name}.csv")
    for name, text in (("compare.md", render_compare_md(res)), ("compare.html", render_compare_html(res))):
        (out_dir / name).write_text(text, encoding="utf-8")
        written.append(out_dir / name)
    meta = {"model_a": res.model_a, "model_b": res.model_b, "summary": res.summary, "notes": res.notes,
            "settings": vars(res.settings), "command": command or []}
    (out_dir / "compare.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return [*written, out_dir / "compare.json"]
