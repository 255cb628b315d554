"""Build the whole report (collect -> aggregate -> tables -> verdicts) and write it in every format."""

from __future__ import annotations

import datetime as _dt
import json
import platform
import shlex
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation.report import paper as paper_mod
from evaluation.report import tables as T
from evaluation.report.aggregate import aggregate
from evaluation.report.collect import Collection, Problem, collect
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
    ours: list[T.Scored]
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
        return summary_line(self.counts, counts(self.cells, reproduction=False))


def _same(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _collect(results_dirs: list[Path], reference_dir: Path | None) -> tuple[Collection, list[Path]]:
    """Ours, then the reference unless it is one of the results folders (read once, used as both)."""
    coll = collect(results_dirs, "ours")
    shared = [r for r in results_dirs if reference_dir and _same(r, reference_dir)]
    if reference_dir and not shared:
        if reference_dir.is_dir():
            collect([reference_dir], "reference", coll)
        else:
            coll.problems.append(Problem("warning", str(reference_dir),
                                         "reference results not found; no leaderboard column from them"))
    return coll, shared


def _provenance(coll: Collection) -> tuple[pd.DataFrame, pd.DataFrame]:
    prov, choices = [], []
    for r in coll.runs:
        versions = Counter(tf.mteb_version or "unknown" for tf in r.tasks.values())
        prov.append({"model": r.name, "source": r.source, "folder": str(r.folder), "tasks": len(r.tasks),
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
    paper = paper_mod.load_paper(settings.paper_dir)
    coll, shared = _collect(results_dirs, reference_dir)
    ours = [T.Scored(r, aggregate(r)) for r in coll.runs if r.source == "ours"]
    refs = {r.hub_id: aggregate(r) for r in coll.runs if r.source == "reference" and r.primary}
    for s in ours:  # a results folder that *is* the reference folder doubles as the leaderboard column
        if s.run.primary and any(s.run.folder.resolve().parent == d.resolve() for d in shared):
            refs.setdefault(s.run.hub_id, s.scores)
    cells = pd.concat([f(paper, ours, refs, settings) for f in (
        T.paper_table_mteb, T.paper_table_miracl, T.paper_table_bitext, T.paper_table_mrtydi)],
        ignore_index=True)
    entries = [(s.run.name, "ours", s.scores) for s in ours]
    entries += [(r.name, "reference", aggregate(r)) for r in coll.runs if r.source == "reference"]
    entries += [(m, "paper", sc) for m, sc in T.paper_scores(paper).items()]
    values, coverage = T.leaderboard(entries)
    languages = {suite: T.wide_table(entries, T.language_columns(suite)) for suite in ("miracl", "mrtydi")}
    prov, choices = _provenance(coll)
    report = Report(name, cells, values, coverage, languages, coll.problems, prov, choices, ours, refs, paper,
                    settings)
    report.inputs = _inputs(report, coll, results_dirs, reference_dir, command)
    return report


def _inputs(report: Report, coll: Collection, results_dirs, reference_dir, command) -> dict[str, Any]:
    """Everything needed to regenerate the report: inputs with hashes, config, command."""
    import hashlib

    import mteb

    paper_files = [{"path": str(p), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                   for p in paper_mod.paper_files(report.settings.paper_dir)]
    argv = command or []
    return {
        "name": report.name,
        "command": argv,
        "regenerate": "python -m evaluation.report.cli report " + " ".join(shlex.quote(a) for a in argv),
        "results_dirs": [str(d.resolve()) for d in results_dirs],
        "reference_dir": str(reference_dir.resolve()) if reference_dir else None,
        "config": report.settings.as_dict(),
        "paper_files": paper_files,
        "files": sorted(coll.files, key=lambda f: f["path"]),
        "versions": {"mteb": getattr(mteb, "__version__", "?"), "pandas": pd.__version__,
                     "python": platform.python_version()},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "summary": report.counts,
    }


def write_report(report: Report, out_dir: str | Path, plots: bool = True) -> list[Path]:
    """reports/<name>/: report.md, report.tex, report.html, tables/*.csv, plots/*.png|svg, inputs.json."""
    from evaluation.report import plots as plots_mod
    from evaluation.report import render_csv, render_html, render_md, render_tex

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = plots_mod.write_plots(report, out / "plots") if plots else []
    report.plot_names = [p.stem for p in written if p.suffix == ".png"]
    written += render_csv.write_csvs(report, out / "tables")
    for fname, text in (("report.md", render_md.render_markdown(report)),
                        ("report.tex", render_tex.render_latex(report)),
                        ("report.html", render_html.render_html(report, [p for p in written
                                                                         if p.suffix == ".png"]))):
        (out / fname).write_text(text, encoding="utf-8")
        written.append(out / fname)
    (out / "inputs.json").write_text(json.dumps(report.inputs, indent=2), encoding="utf-8")
    return [*written, out / "inputs.json"]
