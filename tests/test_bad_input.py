"""Bad input gets one clear error that names the fix, through the same entry point users type, and loses nothing
already written."""

from __future__ import annotations

import json

from evaluation.cli import main


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


def _beir_dir(path, docs: list[dict]) -> None:
    (path / "qrels").mkdir(parents=True)
    (path / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (path / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "what is a cell"}) + "\n")
    (path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")


def test_empty_corpus_is_an_error_and_keeps_the_complete_result(capsys, tmp_path, data_root, shared_cache_dir):
    good, empty = tmp_path / "scifact", tmp_path / "empty"
    _beir_dir(good, [{"_id": "d1", "title": "", "text": "a cell is the unit of life"},
                     {"_id": "d2", "title": "", "text": "stars are far away"}])
    _beir_dir(empty, [])
    common = ["model=minilm", "suite=mteb-en", "tasks=[SciFact]", f"output.dir={tmp_path / 'out'}",
              f"cache.dir={shared_cache_dir}"]
    assert main(["run", *common, f"data.paths.SciFact={good}"]) == 0
    [result] = list((tmp_path / "out").rglob("SciFact.json"))
    before = result.read_bytes()
    rc, err = run_cli(capsys, *common, f"data.paths.SciFact={empty}", "output.overwrite=true")
    assert rc == 2 and "corpus" in err and "empty" in err
    assert result.read_bytes() == before  # a failed run never overwrites a complete result
