"""Bar 6 — fixed overheads: `me5-eval --help` and `me5-eval plan` (import + config compose, no model), result
writing and report building over ~500 result files.

Each is compared with the floor it cannot go below, interleaved in this process:
- ``--help``: a fresh `me5-eval --help` process vs a fresh `python -c pass` (interpreter start-up); and which
  heavy modules it imported (must be none of torch / transformers / sentence_transformers / mteb).
- ``plan``: a fresh `me5-eval plan model=minilm suite=mteb-en tasks=[STSBenchmark,SciFact] data.root=...` vs a
  fresh `python -c "import mteb"` (plan reads mteb's task metadata, so mteb's import is its floor); it must not
  import torch, transformers or sentence_transformers nor load a model. Hydra's compose is timed in-process.
- result writing: 500 x `evaluation.results.write_task_result` (atomic: temp file, fsync, rename, fsync of the
  folder) vs 500 x mteb's own `TaskResult.to_disk` (a plain write), same TaskResult, in pieces of 50.
- report building: `me5-eval report` (evaluation.commands.report.report_command, --no-plots and with plots) over a
  results folder of >= 500 real mteb result files (the published results in ../shared/data/reference, the
  model folders copied under other names to reach 500) vs mteb's own `ResultCache.load_results` of that folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.bench_encode import DATA_ROOT
from benchmarks.common import REPO, WORK_DIR, Bar, Timing, interleaved, paired_pieces, timed

HEAVY = ("torch", "transformers", "sentence_transformers", "mteb", "faiss", "datasets")
PROBE = ("import json, sys\n"
         "from evaluation.cli import main\n"
         "rc = main(sys.argv[1:])\n"
         f"mods = {{m: m in sys.modules for m in {HEAVY!r}}}\n"
         "mods['model_loaded'] = 'evaluation.models.loading' in sys.modules\n"
         "print('PROBE' + json.dumps(mods), file=sys.stderr)\n")


def cli(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "me5-eval"), *args]


def run_quiet(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, capture_output=True, cwd=REPO)


def probe_modules(args: list[str]) -> dict[str, bool]:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], check=True, capture_output=True, text=True, cwd=REPO)
    line = next(x for x in out.stderr.splitlines() if x.startswith("PROBE"))
    return json.loads(line[5:])


def results_tree(min_files: int = 500) -> tuple[Path, int]:
    """A results folder with >= min_files task result JSONs (real published mteb results, copied)."""
    src = DATA_ROOT / "reference" / "mteb-results"
    out = WORK_DIR / f"report-input-{min_files}"
    count = lambda root: sum(1 for p in root.rglob("*.json") if p.name != "model_meta.json")  # noqa: E731
    if out.is_dir():
        return out, count(out)
    tmp = Path(tempfile.mkdtemp(dir=WORK_DIR, prefix="report-input-tmp-"))
    shutil.copytree(src, tmp, dirs_exist_ok=True)
    copy = 0
    while count(tmp) < min_files:
        for model_dir in sorted(p for p in src.iterdir() if p.is_dir()):
            if count(tmp) >= min_files:
                break
            dst = tmp / f"bench-copy{copy}__{model_dir.name.split('__')[-1]}"
            shutil.copytree(model_dir, dst)
            for meta in dst.rglob("model_meta.json"):
                obj = json.loads(meta.read_text())
                obj["name"] = f"bench-copy{copy}/{model_dir.name.split('__')[-1]}"
                meta.write_text(json.dumps(obj))
        copy += 1
    tmp.rename(out)
    return out, count(out)


def run(quick: bool = False, *, reps: int | None = None) -> tuple[list[Bar], dict]:
    import mteb

    from evaluation.commands.report import report_command
    from evaluation.compose import compose_run_config
    from evaluation.config import ModelConfig
    from evaluation.results import provenance, write_task_result

    reps = reps or (3 if quick else 5)
    plan_args = ["plan", "model=minilm", "suite=mteb-en", "tasks=[STSBenchmark,SciFact]", f"data.root={DATA_ROOT}"]
    bars: list[Bar] = []
    raw: dict = {}

    # --help and plan, fresh processes
    startup = interleaved({"me5_eval_help": lambda: run_quiet(cli("--help")),
                           "python_pass": lambda: run_quiet([sys.executable, "-c", "pass"])}, reps)
    plan = interleaved({"me5_eval_plan": lambda: run_quiet(cli(*plan_args)),
                        "python_import_mteb": lambda: run_quiet([sys.executable, "-c", "import mteb"])},
                       max(2, reps - 2))
    help_mods, plan_mods = probe_modules(["--help"]), probe_modules(plan_args)
    compose = interleaved({"compose_run_config": lambda: compose_run_config(plan_args[1:])}, reps)
    raw.update(startup=startup, plan=plan, compose=compose)
    help_ok = not any(help_mods[m] for m in HEAVY)
    plan_ok = not (plan_mods["torch"] or plan_mods["transformers"] or plan_mods["sentence_transformers"]
                   or plan_mods["model_loaded"])
    h, py = startup["me5_eval_help"].median, startup["python_pass"].median
    bars.append(Bar("6a `me5-eval --help` (time over bare python start-up)", h / py, None, lower_is_better=True,
                    check=help_ok, check_desc="imports no torch/transformers/mteb",
                    details={"summary": f"{h:.2f} s vs `python -c pass` {py:.2f} s; heavy modules imported: "
                                        f"{[m for m in HEAVY if help_mods[m]] or 'none'}",
                             "modules": help_mods}))
    pl, mt = plan["me5_eval_plan"].median, plan["python_import_mteb"].median
    bars.append(Bar("6b `me5-eval plan` (time over `import mteb`)", pl / mt, None, lower_is_better=True,
                    check=plan_ok, check_desc="no torch, no model",
                    details={"summary": f"{pl:.2f} s vs `python -c 'import mteb'` {mt:.2f} s; Hydra compose "
                                        f"{compose['compose_run_config'].median:.3f} s in-process; imported: "
                                        f"{[m for m in HEAVY if plan_mods[m]] or 'none'}",
                             "modules": plan_mods, "compose_s": compose["compose_run_config"].median}))

    # result writing: 500 files, ours (atomic + fsync) vs mteb's TaskResult.to_disk
    ref = DATA_ROOT / "reference" / "mteb-results" / "sentence-transformers__all-MiniLM-L6-v2"
    source = next(p for p in sorted(ref.rglob("SciFact.json")))
    result = mteb.TaskResult.from_disk(source)
    prov = provenance(ModelConfig(name="bench/model"), protocol="paper", dtype="float32", device="cpu",
                      fingerprint="bench", data_source={"SciFact": "local:bench"})
    scratch = Path(tempfile.mkdtemp(dir=WORK_DIR, prefix="overheads-"))
    n_files, piece = 500, 50
    try:
        def ours_write(i):
            for j in range(i * piece, (i + 1) * piece):
                write_task_result(scratch / "ours" / f"m{j // 10}" / f"Task{j}.json", result, prov)

        def mteb_write(i):
            for j in range(i * piece, (i + 1) * piece):
                path = scratch / "mteb" / f"m{j // 10}" / f"Task{j}.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                result.to_disk(path)

        writes = paired_pieces({"ours_write_task_result": ours_write, "mteb_to_disk": mteb_write}, n_files // piece)
        tree, n_results = results_tree(n_files)
        mteb_root = scratch / "mteb-cache"  # mteb's ResultCache reads <cache_path>/results/<model>/<rev>/
        (mteb_root).mkdir()
        (mteb_root / "results").symlink_to(tree, target_is_directory=True)
        out = scratch / "reports"
        report_args = ["--results", str(tree), "--reference", "none", "--out", str(out), "--name", "bench"]
        report_rc: dict[str, int] = {}

        def report(plots: bool):
            def go():
                report_rc["plots" if plots else "no_plots"] = report_command(report_args + ([] if plots else
                                                                                            ["--no-plots"]))
            return go

        def mteb_load():
            raw["mteb_loaded_results"] = len(mteb.ResultCache(cache_path=mteb_root).load_results(
                include_remote=False, require_model_meta=False).model_results)

        report_reps = 2 if quick else 3
        reports = interleaved({"report_no_plots": report(False), "mteb_load_results": mteb_load}, report_reps)
        with_plots = Timing()
        wall, cpu, _ = timed(report(True))
        with_plots.wall.append(wall)
        with_plots.cpu.append(cpu)
        reports["report_with_plots"] = with_plots
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    raw.update(writes=writes, reports=reports)
    ow, mw = writes["ours_write_task_result"].total, writes["mteb_to_disk"].total
    bars.append(Bar(f"6c write {n_files} result files (mteb to_disk time / ours)", mw / ow, None,
                    details={"summary": f"ours {1000 * ow / n_files:.2f} ms/file (atomic, fsync) vs mteb "
                                        f"{1000 * mw / n_files:.2f} ms/file (plain write)",
                             "ours_s": ow, "mteb_s": mw, "files": n_files}))
    rn, ml = reports["report_no_plots"].median, reports["mteb_load_results"].median
    bars.append(Bar(f"6d report over {n_results} result files (mteb load_results time / ours)", ml / rn, None,
                    check=all(rc in (0, 1) for rc in report_rc.values()), check_desc="report built",
                    details={"summary": f"`me5-eval report` {rn:.1f} s without plots, {wall:.1f} s with plots; "
                                        f"mteb ResultCache.load_results of the same folder {ml:.1f} s",
                             "result_files": n_results, "report_exit_codes": report_rc,
                             "mteb_models_loaded": raw.get("mteb_loaded_results")}))
    return bars, {"overheads": raw}


def main(argv: list[str] | None = None) -> None:
    from benchmarks.common import print_table, quiet_openmp, save_raw

    quiet_openmp()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    bars, raw = run(args.quick)
    print_table(bars)
    save_raw("overheads", bars, raw)


if __name__ == "__main__":
    main()
