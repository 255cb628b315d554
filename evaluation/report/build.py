"""Build the whole report (collect -> aggregate -> tables -> verdicts) and write it in every format."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.atomic import atomic_write_text
from evaluation.report import render_csv, render_html, render_md, render_tex, tables
from evaluation.report.aggregate import aggregate
from evaluation.report.collect import Collection, ModelRun, collect, collect_results
from evaluation.report.paper import load_paper, paper_files
from evaluation.report.published import published_cells
from evaluation.report.result_file import Problem
from evaluation.report.settings import ReportSettings
from evaluation.report.verdict import counts, summary_line


@dataclass
class Report:
    name: str
    cells: pd.DataFrame  # every paper cell: paper / leaderboard / ours / delta / verdict
    leaderboard: pd.DataFrame
    coverage: pd.DataFrame  # same shape as leaderboard: 'n/N' where a mean is incomplete
    languages: dict[str, tuple[pd.DataFrame, pd.DataFrame]]
    problems: list[Problem]
    provenance: pd.DataFrame
    choices: pd.DataFrame
    ours: list[tables.Scored]
    refs: dict[str, pd.DataFrame]
    paper: pd.DataFrame
    settings: ReportSettings
    inputs: dict[str, Any] = field(default_factory=dict)
    plot_names: list[str] = field(default_factory=list)  # set by write_report, linked from the Markdown

    @property
    def counts(self) -> dict[str, int]:
        return counts(self.cells)

    @property
    def summary(self) -> str:
        return summary_line(self.cells)


def _same(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _collect(results_dirs: list[Path], reference_dir: Path | None) -> tuple[Collection, list[Path]]:
    """Ours, then the reference unless it is one of the results folders (read once, used as both)."""
    coll = collect_results(results_dirs)
    shared = [r for r in results_dirs if reference_dir and _same(r, reference_dir)]
    if reference_dir and not shared:
        if reference_dir.is_dir():
            collect([reference_dir], "reference", coll)
        else:
            coll.problems.append(Problem("warning", str(reference_dir),
                                         "reference results not found; no leaderboard column from them"))
    return coll, shared


def _published_runs(coll: Collection, shared: list[Path]) -> dict[str, ModelRun]:
    """hub id -> the published results of that checkpoint: the reference folder's official runs, or ours when a
    results folder *is* the reference folder (it then doubles as the leaderboard column)."""
    out = {r.hub_id: r for r in coll.runs if r.source == "reference" and r.primary and r.variant is None}
    for r in coll.runs:
        if r.source == "ours" and r.primary and r.variant is None and \
                any(r.folder.resolve().parent == d.resolve() for d in shared):
            out.setdefault(r.hub_id, r)
    return out


def _provenance(coll: Collection) -> tuple[pd.DataFrame, pd.DataFrame]:
    prov, choices = [], []
    for r in coll.runs:
        versions = Counter(tf.mteb_version or "unknown" for tf in r.tasks.values())
        prov.append({"model": r.name, "source": r.source, "folder": str(r.folder), "tasks": len(r.tasks),
                     "variant_of": f"{r.reference_model or '?'} ({r.variant})" if r.variant is not None else "",
                     "revisions": ", ".join(sorted({tf.revision for tf in r.tasks.values()})),
                     "mteb_versions": ", ".join(f"{v} ({n})" for v, n in sorted(versions.items())),
                     "tolerant_reader": sum(tf.loader == "tolerant" for tf in r.tasks.values())})
        choices += [{"model": r.name, **c, "candidates": "; ".join(c["candidates"])} for c in r.choices]
    cols = ["model", "task", "chosen", "chosen_mteb_version", "candidates", "rule"]
    return pd.DataFrame(prov), pd.DataFrame(choices, columns=cols)


def build_report(results_dirs: list[str | Path], reference_dir: str | Path | None, settings: ReportSettings,
                 name: str = "report", command: list[str] | None = None) -> Report:
    results_dirs = [Path(d) for d in results_dirs]
    reference_dir = Path(reference_dir) if reference_dir else None
    paper = load_paper(settings.paper_dir)
    coll, shared = _collect(results_dirs, reference_dir)
    ours = [tables.Scored(r, aggregate(r)) for r in coll.runs if r.source == "ours"]
    published = _published_runs(coll, shared)
    scores = {id(s.run): s.scores for s in ours}
    scores.update({id(r): aggregate(r) for r in coll.runs if r.source == "reference"})
    refs = {hub_id: scores[id(run)] for hub_id, run in published.items()}
    cells = pd.concat([f(paper, ours, refs, settings) for f in (
        tables.paper_table_mteb, tables.paper_table_miracl, tables.paper_table_bitext, tables.paper_table_mrtydi)]
        + [published_cells(ours, published, set(paper["model"]), settings)], ignore_index=True)
    entries = [(s.run.name, "ours", s.scores) for s in ours]
    entries += [(r.name, "reference", scores[id(r)]) for r in coll.runs if r.source == "reference"]
    entries += [(m, "paper", sc) for m, sc in tables.paper_scores(paper).items()]
    values, coverage = tables.leaderboard(entries)
    languages = {suite: tables.wide_table(entries, tables.language_columns(suite)) for suite in ("miracl", "mrtydi")}
    prov, choices = _provenance(coll)
    report = Report(name, cells, values, coverage, languages, coll.problems, prov, choices, ours, refs, paper,
                    settings)
    report.inputs = _inputs(report, coll, results_dirs, reference_dir, command)
    return report


def _inputs(report: Report, coll: Collection, results_dirs, reference_dir, command) -> dict[str, Any]:
    """Everything needed to regenerate the report: inputs with hashes, config, command."""
    import mteb  # deferred: importing mteb takes seconds (collect has imported it by now; this is its version)

    tables_read = [{"path": str(p), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                   for p in paper_files(report.settings.paper_dir)]
    argv = command or []
    return {
        "name": report.name,
        "command": argv,
        "regenerate": "me5-eval report " + " ".join(shlex.quote(a) for a in argv),
        "results_dirs": [str(d.resolve()) for d in results_dirs],
        "reference_dir": str(reference_dir.resolve()) if reference_dir else None,
        "config": report.settings.as_dict(),
        "paper_files": tables_read,
        "files": sorted(coll.files, key=lambda f: f["path"]),
        "versions": {"mteb": getattr(mteb, "__version__", "?"), "pandas": pd.__version__,
                     "python": platform.python_version()},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "summary": report.counts,
    }


def write_report(report: Report, out_dir: str | Path, plots: bool = True) -> list[Path]:
    """reports/<name>/: report.md, report.tex, report.html, tables/*.csv, plots/*.png|svg, inputs.json."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if plots:
        from evaluation.report.plots import write_plots  # deferred: matplotlib is slow to import (--no-plots)

        written = write_plots(report, out / "plots")
    report.plot_names = [p.stem for p in written if p.suffix == ".png"]
    written += render_csv.write_csvs(report, out / "tables")
    for fname, text in (("report.md", render_md.render_markdown(report)),
                        ("report.tex", render_tex.render_latex(report)),
                        ("report.html", render_html.render_html(report, [p for p in written
                                                                         if p.suffix == ".png"]))):
        atomic_write_text(out / fname, text)
        written.append(out / fname)
    atomic_write_text(out / "inputs.json", json.dumps(report.inputs, indent=2))
    return [*written, out / "inputs.json"]
