"""Self-contained HTML page: inline CSS, a few lines of inline JS to sort tables, plots as data URIs."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import pandas as pd

from evaluation.report import present

CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:2px 8px;text-align:left}
th{background:#f4f4f4;cursor:pointer;position:sticky;top:0}
th[data-dir=asc]::after{content:" \\25B2"} th[data-dir=desc]::after{content:" \\25BC"}
td.v-OK{background:#d9f2d9} td.v-FAIL{background:#f8d0d0;font-weight:bold} td.v-MISSING{background:#fff3c4}
td.v-PARTIAL{background:#e8e0f8} td.v-disagree{color:#b00} p.note{font-style:italic;color:#555}
td.sev-error{color:#b00;font-weight:bold} .summary{font-size:1.2em;font-weight:bold}
img{max-width:100%;border:1px solid #eee;margin:.5em 0} details{margin:.5em 0}
"""
# Click a header to sort by it (numbers numerically, text alphabetically, empty cells always last).
JS = """
window.addEventListener('error', e => { document.body.dataset.jserror = e.message; });
function cellValue(tr, i) {
  const t = tr.children[i].textContent.trim(); const n = parseFloat(t);
  return t === '' ? null : (isNaN(n) ? t : n);
}
function sortTable(th) {
  const body = th.closest('table').tBodies[0], i = [...th.parentNode.children].indexOf(th);
  const asc = th.dataset.dir !== 'asc';
  th.parentNode.querySelectorAll('th').forEach(h => delete h.dataset.dir);
  th.dataset.dir = asc ? 'asc' : 'desc';
  const rows = [...body.rows].sort((a, b) => {
    const x = cellValue(a, i), y = cellValue(b, i);
    if (x === null || y === null) return (x === null) - (y === null);
    const c = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y));
    return asc ? c : -c;
  });
  rows.forEach(r => body.appendChild(r));
}
document.querySelectorAll('table.sortable th').forEach(th => th.addEventListener('click', () => sortTable(th)));
document.body.dataset.js = 'ok';
"""


def html_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "<p><em>none</em></p>"
    out = df.to_html(index=False, classes="sortable", border=0, escape=True, na_rep="")
    out = re.sub(r"<td>(OK|FAIL|PARTIAL|MISSING|disagree)</td>", r'<td class="v-\1">\1</td>', out)
    return re.sub(r"<td>(error)</td>", r'<td class="sev-\1">\1</td>', out)


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _note(text: str) -> str:
    return f'<p class="note">Note: {html.escape(text)}</p>' if text else ""


def _tables(report) -> list[str]:
    esc, body = html.escape, []
    for tid, title, cells in present.sections(report.cells):
        body += [f'<section id="{tid}"><h2>{esc(title)}</h2>']
        if note := present.table_note(tid):
            body.append(_note(note))
        body += [html_table(present.cell_view(cells)), "</section>"]
    if skipped := present.tables_not_run(report.cells):
        body.append(f"<p>Paper tables without any result here (their paper values: tables/verdicts.csv): "
                    f"{esc('; '.join(skipped))}.</p>")
    return body


def render_html(report, images: list[Path]) -> str:
    s, esc = report.settings, html.escape
    body = [f"<h1>me5-eval report: {esc(report.name)}</h1>",
            f'<p class="summary">Summary: {esc(report.summary)}</p>',
            f"<p>Tolerance {s.tolerance_default} points. {esc(present.LEGEND)}</p>",
            f"<h2>Problems ({len(report.problems)})</h2>", html_table(present.problems_view(report.problems)),
            "<h2>Verdicts per table and model</h2>", html_table(present.counts_view(report.cells)), *_tables(report)]
    body += ['<section id="leaderboard"><h2>Leaderboard</h2>',
             f"<p>Click a column header to sort (initially by {esc(s.sort_by)}).</p>",
             html_table(present.leaderboard_view(report.leaderboard, report.coverage, s.sort_by)),
             _note(present.leaderboard_mrtydi_note(report.leaderboard)),
             "</section>"]
    for suite, title in (("miracl", "MIRACL dev nDCG@10 per language"), ("mrtydi", "Mr.TyDi MRR@10 per language")):
        vals, cov = report.languages[suite]
        body += [f'<section id="languages-{suite}"><h2>{title}</h2>',
                 html_table(present.leaderboard_view(vals, cov, vals.columns[2])),
                 _note(present.mrtydi_instruction_note(vals) if suite == "mrtydi" else ""), "</section>"]
    body += ["<h2>Plots</h2>", *(_img(p) for p in images),
             "<details><summary>Inputs: models read, mteb versions</summary>", html_table(report.provenance),
             "</details><details><summary>Revision choices</summary>", html_table(report.choices), "</details>"]
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>me5-eval report: {esc(report.name)}</title><style>{CSS}</style></head><body>"
            + "\n".join(body) + f"<script>{JS}</script></body></html>\n")
