"""`me5-eval plan`: the table and the estimate, printed without loading a model."""

from __future__ import annotations

import sys

from evaluation.cli import main


def test_plan_command_prints_the_table_without_loading_a_model(data_root, capsys):
    before = set(sys.modules)
    assert main(["plan", "model=small", "suite=mteb-en", "tasks=[STSBenchmark,SciFact]", f"data.root={data_root}"]) == 0
    out = capsys.readouterr().out
    assert "SciFact" in out and "5,183" in out and "GPU-hours" in out
    assert "transformers.models.bert.modeling_bert" not in set(sys.modules) - before
