"""Report settings: evaluation/conf/report.yaml (tolerances, paths, compare options) as one small dataclass."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evaluation.errors import ConfigError
from evaluation.scoring import PAPER_SCORE

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "conf" / "report.yaml"  # package data
# The report's Mr.TyDi metric: the one evaluation/scoring.py names (MRR@10, the model cards' Mr.TyDi table).
MRTYDI_METRIC = PAPER_SCORE["mrtydi"]


def default_reference_dir() -> Path:
    """Same rule as tests/conftest.py: $ME5_EVAL_DATA, else the shared folder next to the repo."""
    data = Path(os.environ.get("ME5_EVAL_DATA", REPO.parent / "shared" / "data"))
    return data / "reference" / "mteb-results"


@dataclass
class CompareSettings:
    n_resamples: int = 10000
    seed: int = 0
    alpha: float = 0.05
    top_items: int = 10
    tie_eps: float = 1e-9


@dataclass
class ReportSettings:
    tolerance_default: float = 0.3
    tolerance_tables: dict[str, float] = field(default_factory=dict)
    paper_dir: Path | None = None  # None: the tables shipped in the package (evaluation/report/paper_tables/)
    reference_dir: Path | None = None
    paper_models: dict[str, str] = field(default_factory=dict)
    sort_by: str = "MTEB-en avg (56)"
    compare: CompareSettings = field(default_factory=CompareSettings)
    source: str = ""  # the file the settings came from (recorded in inputs.json)

    def tolerance(self, table_id: str) -> float:
        return float(self.tolerance_tables.get(table_id, self.tolerance_default))

    def with_tolerance(self, tol: float) -> ReportSettings:
        """`--tolerance X` replaces the default and every per-table override."""
        self.tolerance_default, self.tolerance_tables = float(tol), {}
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "tolerance": {"default": self.tolerance_default, "tables": dict(self.tolerance_tables)},
            "paper_dir": str(self.paper_dir) if self.paper_dir else "(packaged: evaluation/report/paper_tables)",
            "reference_dir": str(self.reference_dir) if self.reference_dir else None,
            "paper_models": dict(self.paper_models),
            "leaderboard": {"sort_by": self.sort_by},
            "compare": vars(self.compare).copy(),
            "source": self.source,
        }


def _path(value: str | None, fallback: Path | None) -> Path | None:
    if value is None:
        return fallback
    p = Path(value).expanduser()
    return p.resolve()  # relative to the current directory, as output.dir and --results are


def load_settings(path: str | Path | None = None) -> ReportSettings:
    """Read evaluation/conf/report.yaml (or `path`); unknown keys are an error so typos do not pass silently."""
    path = Path(path) if path else DEFAULT_CONFIG
    if not path.is_file():
        raise ConfigError(f"report config {path} not found; pass --config or restore evaluation/conf/report.yaml")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    known = {"tolerance", "paper_dir", "reference_dir", "paper_models", "leaderboard", "compare"}
    if unknown := set(raw) - known:
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)}; allowed: {sorted(known)}")
    tol = raw.get("tolerance") or {}
    cmp_raw = raw.get("compare") or {}
    if bad := set(cmp_raw) - set(vars(CompareSettings())):
        raise ConfigError(f"{path}: unknown compare keys {sorted(bad)}")
    return ReportSettings(
        tolerance_default=float(tol.get("default", 0.3)),
        tolerance_tables={k: float(v) for k, v in (tol.get("tables") or {}).items()},
        paper_dir=_path(raw.get("paper_dir"), None),
        reference_dir=_path(raw.get("reference_dir"), default_reference_dir()),
        paper_models=dict(raw.get("paper_models") or {}),
        sort_by=(raw.get("leaderboard") or {}).get("sort_by", "MTEB-en avg (56)"),
        compare=CompareSettings(**cmp_raw),
        source=str(path),
    )
