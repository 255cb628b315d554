"""CQADupstackRetrieval (MTEB(eng, v1)) is the mean of its 12 subforums: each subforum runs from a local BEIR
folder, is written as its own result, and mteb combines them. The tiny corpora make every score hand-checkable.

Each forum has q1 whose only relevant passage d1 has q1's exact text (rank 1: nDCG@10 = 1). Even-numbered forums
also have q2, relevant to d1 too, whose own text is the non-relevant passage d2: d2 ranks first, d1 second
(nDCG@10 = 1/log2(3)). So a forum scores 1 or (1 + 1/log2(3)) / 2, and the aggregate is their mean.
"""

from __future__ import annotations

import json
import math

import pytest

from evaluation.data.registry import BEIR_TASKS
from evaluation.runner import run_from_overrides

FORUMS = [t for t in BEIR_TASKS if t.startswith("CQADupstack")]


def write_forum(folder, index: int) -> None:
    q1, q2 = f"how do I configure widget {index}", f"why does gadget {index} crash on boot"
    queries = [{"_id": "q1", "text": q1}] + ([{"_id": "q2", "text": q2}] if index % 2 == 0 else [])
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": d, "title": "", "text": t}) + "\n" for d, t in (("d1", q1), ("d2", q2))))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q['_id']}\td1\t1\n" for q in queries))


@pytest.mark.slow
def test_cqadupstack_is_the_mean_of_its_12_subforums(tmp_path, shared_cache_dir):
    for i, task in enumerate(FORUMS):
        write_forum(tmp_path / "data" / "beir" / BEIR_TASKS[task][0], i)
    [result] = run_from_overrides(["model=minilm", "suite=mteb-en", "tasks=[CQADupstackRetrieval]",
                                   f"data.root={tmp_path / 'data'}", f"output.dir={tmp_path / 'results'}",
                                   f"cache.dir={shared_cache_dir}"])
    two = (1 + 1 / math.log2(3)) / 2
    expected = sum(two if i % 2 == 0 else 1.0 for i in range(12)) / 12
    assert len(FORUMS) == 12
    assert result.get_score() == pytest.approx(expected, abs=1e-5)
    written = {p.stem for p in (tmp_path / "results").rglob("CQADupstack*.json")}
    assert written == {*FORUMS, "CQADupstackRetrieval"}
