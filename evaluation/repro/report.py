"""reports/repro-offline/: the report builder's tables and plots for the reproduction's results, plus a README
generated from them (evaluation/repro/readme.py)."""

from __future__ import annotations

from pathlib import Path

from evaluation.atomic import atomic_write_text
from evaluation.report.build import build_report, write_report
from evaluation.report.settings import load_settings
from evaluation.repro.offline import read_run_info
from evaluation.repro.readme import render_readme


def write_repro_report(results: Path, reference: Path | None, out: Path, name: str = "repro-offline") -> Path:
    """Build the report over `results` (against the published results in `reference`) into out/name/."""
    command = ["--results", str(results), "--reference", str(reference or "none"), "--out", str(out),
               "--name", name]
    report = build_report([results], reference, load_settings(None), name=name, command=command)
    folder = Path(out) / name
    write_report(report, folder)
    atomic_write_text(folder / "README.md", render_readme(report, read_run_info(results), results))
    return folder
