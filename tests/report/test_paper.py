"""The paper tables ship inside the package: read through importlib.resources, and present in a built wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from evaluation.errors import MissingDataError
from evaluation.report.paper import load_paper, packaged_tables, paper_files

REPO = Path(__file__).resolve().parents[2]
TABLE_FILES = {"table3_mteb_en_average.csv", "table4_miracl_average.csv", "table5_bitext.csv",
               "table6_miracl_per_language.csv", "table7_mteb_en_per_dataset.csv", "mrtydi_model_card.csv"}


def test_packaged_tables_are_read_by_default():
    assert {f.name for f in paper_files()} == TABLE_FILES
    assert (packaged_tables() / "README.md").is_file()
    p = load_paper()
    small = p[(p["model"] == "intfloat/multilingual-e5-small") & (p["table_id"] == "table5")]
    assert set(small["value"]) == {93.2, 64.2}  # BUCC, Tatoeba as printed


def test_a_paper_dir_replaces_them(tmp_path):
    src = packaged_tables() / "table5_bitext.csv"
    (tmp_path / "table5_bitext.csv").write_bytes(src.read_bytes())
    assert set(load_paper(tmp_path)["table_id"]) == {"table5"}
    with pytest.raises(MissingDataError, match="paper_dir"):
        load_paper(tmp_path / "nowhere")


def test_wheel_contains_the_tables(tmp_path):
    """`pip install .` installs what the wheel holds: the tables must be in it (package-data in pyproject)."""
    src = tmp_path / "src"  # a copy: setuptools writes build/ and *.egg-info next to the sources
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".*", "build", "*.egg-info", "tests", "reports",
                                                             "results", "benchmarks", "outputs", "multirun"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                        str(tmp_path), str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    (wheel,) = tmp_path.glob("me5_eval-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"evaluation/report/paper_tables/{f}" for f in TABLE_FILES} <= names
    assert "evaluation/commands/report.py" in names and "evaluation/commands/compare.py" in names
