"""`pip install .` (not editable) works: the wheel carries the run configs, and its `me5-eval plan` runs from a
directory outside the checkout. Offline: the wheel is installed with --no-deps into a fresh venv that sees this
environment's packages (torch, mteb, ...), as a researcher's mteb environment would provide them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def run(cmd: list, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **OFFLINE}, timeout=900)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.mark.slow
def test_the_wheel_installs_and_plans_outside_the_checkout(tmp_path, data_root):
    # setuptools builds in the source tree (build/, *.egg-info): build a copy, not the checkout
    src = shutil.copytree(REPO, tmp_path / "src", ignore=shutil.ignore_patterns(
        ".git", ".venv", ".cache", "build", "*.egg-info", "__pycache__", "results", "reports", "multirun", "outputs"))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", src],
        cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("me5_eval-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"evaluation/conf/config.yaml", "evaluation/conf/model/small.yaml", "evaluation/conf/suite/miracl.yaml",
            "evaluation/conf/launcher/slurm.yaml", "evaluation/conf/hydra/help/run.yaml"} <= names

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], cwd=tmp_path)
    site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    # A venv made from a venv sees the base interpreter's packages, not this venv's: point it at them with a plain
    # path line (a path line does not run the .pth files there, so this checkout's editable install stays out).
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps", "--no-index",
         wheel], cwd=tmp_path)

    where = run([venv / "bin" / "python", "-c", "import evaluation; print(evaluation.__file__)"], cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(venv)
    plan = run([venv / "bin" / "me5-eval", "plan", "model=small", "suite=miracl", f"data.root={data_root}"],
               cwd=tmp_path)
    rows = [line for line in plan.stdout.splitlines() if line.startswith("| MIRACLRetrieval")]
    assert len(rows) == 18 and "18 work units" in plan.stdout
