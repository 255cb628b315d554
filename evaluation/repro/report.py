"""reports/repro-offline/: the report builder's tables and plots for the reproduction's results, plus README.md and
tatoeba.md generated from them (evaluation/repro/readme.py)."""

from __future__ import annotations

from pathlib import Path

from evaluation.atomic import atomic_write_text
from evaluation.report.build import build_report, write_report
from evaluation.report.settings import load_settings
from evaluation.repro.offline import read_run_info
from evaluation.repro.readme import render_readme, render_tatoeba
from evaluation.repro.tables import tatoeba_languages

REPORT_NAME = "repro-offline"


def write_repro_report(results: Path, reference: Path | None, out: Path, name: str = REPORT_NAME) -> Path:
    """Build the report over `results` (against the published results in `reference`) into out/name/."""
    command = ["--results", str(results), "--reference", str(reference or "none"), "--out", str(out),
               "--name", name]
    report = build_report([results], reference, load_settings(None), name=name, command=command)
    folder = Path(out) / name
    write_report(report, folder)
    atomic_write_text(folder / "tables" / "tatoeba_languages.csv",
                      tatoeba_languages(report, results).to_csv(index=False, float_format="%.4f"))
    atomic_write_text(folder / "tatoeba.md", render_tatoeba(report, results))
    atomic_write_text(folder / "README.md", render_readme(report, read_run_info(results), results))
    return folder
