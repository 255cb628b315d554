"""`make repro-offline CHECK=1`: rerun the reproduction into a scratch folder (the embedding cache makes it fast when
the model fingerprint and the texts are unchanged) and compare every task x subset main score with the committed
results. A score that moved by more than the tolerance is a regression to explain (a dependency upgrade, a code
change); each one is listed."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from evaluation.errors import DataError
from evaluation.repro.offline import ReproSettings, configs, mteb_protocol_results, run_tasks, task_label
from evaluation.results import task_result_path

# Points (scores x 100). The same code and weights on the same machine reproduce to ~1e-4; 0.05 leaves room for
# BLAS thread-count differences and nothing else.
DEFAULT_TOLERANCE = 0.05


@dataclass
class CheckResult:
    tolerance: float
    compared: int = 0
    lines: list[str] = field(default_factory=list)  # one per moved or missing cell

    @property
    def failed(self) -> bool:
        return bool(self.lines)

    @property
    def summary(self) -> str:
        verdict = "FAIL" if self.failed else "OK"
        return (f"check {verdict}: {self.compared} scores compared with the committed results, {len(self.lines)} "
                f"moved by more than {self.tolerance} points or missing")


def main_scores(cfg) -> dict[tuple[str, str], float]:
    """(task label, subset) -> main score x 100 in the result file `cfg` writes (under cfg.output.dir)."""
    task = task_label(cfg)
    path = task_result_path(cfg.output.dir, cfg.model, cfg.tasks[0])
    if not path.is_file():
        return {}
    obj = json.loads(path.read_text(encoding="utf-8"))
    return {(task, e["hf_subset"]): 100 * e["main_score"] for entries in obj["scores"].values() for e in entries}


def compare(committed: dict, fresh: dict, tolerance: float) -> CheckResult:
    out = CheckResult(tolerance)
    for key in sorted(fresh):
        out.compared += 1
        task, subset = key
        if key not in committed:
            out.lines.append(f"MISSING {task}/{subset}: ours {fresh[key]:.2f}, no committed value")
        elif abs(fresh[key] - committed[key]) > tolerance:
            out.lines.append(f"MOVED {task}/{subset}: committed {committed[key]:.2f} -> now {fresh[key]:.2f} "
                             f"({fresh[key] - committed[key]:+.2f}, tolerance {tolerance})")
    return out


def check(s: ReproSettings, tolerance: float = DEFAULT_TOLERANCE, on_task=None, keep: bool = False) -> CheckResult:
    """Rerun `s`'s tasks into <cache>/repro-check/<time>/ and compare with the results committed in s.results."""
    if not any(Path(s.results).glob("*/*/*.json")):
        raise DataError(f"no committed results under {s.results}: run `make repro-offline` first (or pass the "
                        "folder that holds them)")
    cfgs = configs(s)
    committed = {k: v for cfg in cfgs for k, v in main_scores(cfg).items()}
    if not committed:
        raise DataError(f"no committed results under {s.results}: run `make repro-offline` first (or pass the "
                        "folder that holds them)")
    scratch = s.cache_dir / "repro-check" / _dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
    fresh_settings = dataclasses.replace(s, results=scratch)
    try:
        run_tasks(fresh_settings, configs(fresh_settings), on_task=on_task)
        fresh = {k: v for cfg in configs(fresh_settings) for k, v in main_scores(cfg).items()}
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
            shutil.rmtree(mteb_protocol_results(scratch), ignore_errors=True)
    return compare(committed, fresh, tolerance)
