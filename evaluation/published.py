"""How far a run landed from the published scores of the same model.

Two sources, both read with the report's own readers (evaluation/report/), so `run`'s closing lines and
`make report` agree: the mteb results published for the model (`<data.root>/reference/mteb-results/<org__model>/`,
the folder of the embeddings-benchmark/results repository; the report's rule picks among revision folders), and
the paper's tables (evaluation/report/paper_tables/*.csv, cells of single task subsets; averages are the report's job).
Tolerances are the report's (evaluation/conf/report.yaml): per paper table, the default for the mteb results.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evaluation.config import RunConfig
from evaluation.errors import Me5EvalError
from evaluation.report.aggregate import subset_score
from evaluation.report.collect import Collection, ModelRun, read_model_folder
from evaluation.report.paper import load_paper
from evaluation.report.settings import ReportSettings, load_settings
from evaluation.report.verdict import verdict
from evaluation.results import model_dir_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Landing:
    """One of our scores next to a published one, in points (score x 100)."""

    task: str
    subset: str
    split: str
    metric: str
    ours: float
    published: float
    source: str  # "mteb results <revision>" or "paper <table_id>"
    tolerance: float

    @property
    def delta(self) -> float:
        return self.ours - self.published

    @property
    def matches(self) -> bool:
        return verdict(self.published, self.ours, 1, 1, self.tolerance) == "OK"  # one cell, fully run


def report_settings() -> ReportSettings:
    """The report's settings (evaluation/conf/report.yaml); a copy installed without that file uses the defaults."""
    try:
        return load_settings()
    except Me5EvalError as err:
        log.warning("report settings not read (%s); using the default tolerances", str(err).splitlines()[0])
        return ReportSettings()


def reference_dir(cfg: RunConfig, settings: ReportSettings) -> Path | None:
    """`<data.root>/reference/mteb-results` of this run, else the report's default."""
    if cfg.data.root:
        return Path(cfg.data.root) / "reference" / "mteb-results"
    return settings.reference_dir


def published_run(folder: Path | None, model_name: str) -> ModelRun | None:
    """The model's published mteb results, or None when that folder has none."""
    path = folder / model_dir_name(model_name) if folder else None
    if path is None or not path.is_dir():
        return None
    # the official checkpoint's run; a variant folder (quantised/local weights) is not "the published score"
    official = [run for run in read_model_folder(path, "reference", Collection()) if run.variant is None]
    return official[0] if official else None


def _paper_cells(settings: ReportSettings, model_name: str) -> pd.DataFrame | None:
    try:
        paper = load_paper(settings.paper_dir)
    except Me5EvalError as err:  # e.g. an installed copy without the tables: compare with mteb results only
        log.warning("paper tables not read (%s); comparing with the published mteb results only",
                    str(err).splitlines()[0])
        return None
    return paper[(paper["model"] == model_name) & ~paper["derived"] & paper["value"].notna()]


def _points(entry: dict, metric: str) -> float | None:
    value = entry.get(metric)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value):
        return 100.0 * float(value)
    return None


def landings(cfg: RunConfig, results: list, settings: ReportSettings | None = None) -> list[Landing]:
    """Every (task, subset) of `results` that has a published value of the same model and metric."""
    settings = settings or report_settings()
    ref = published_run(reference_dir(cfg, settings), cfg.model.name)
    paper = _paper_cells(settings, cfg.model.name)
    out: list[Landing] = []
    for res in results:
        for split, entries in res.scores.items():
            for entry in entries:
                subset, ours = entry["hf_subset"], _points(entry, "main_score")
                published = subset_score(ref, res.task_name, split, subset, "main_score") if ref else None
                if ours is not None and published is not None:
                    revision = ref.tasks[res.task_name].revision
                    out.append(Landing(res.task_name, subset, split, "main_score", ours, published,
                                       f"mteb results {revision[:12]}", settings.tolerance_default))
                if paper is None:
                    continue
                cells = paper[(paper["task"] == res.task_name) & (paper["subset"] == subset)]
                for cell in cells.itertuples():
                    if (value := _points(entry, cell.metric)) is not None:
                        out.append(Landing(res.task_name, subset, split, cell.metric, value, float(cell.value),
                                           f"paper {cell.table_id}", settings.tolerance(cell.table_id)))
    return out
