"""MIRACL and Mr.TyDi end to end from local files: the real topics + qrels from ../shared/data and a small JSONL
corpus made here, built so the expected metrics can be worked out by hand.

For a chosen set S of queries, every relevant passage has exactly the query's text (cosine 1 with the query under
a prompt-free model, so all of them rank first). Every other query has no relevant passage in the corpus; its own
text appears as a *non-relevant* distractor, so it retrieves something and still scores 0. trec_eval -c averages
over every query in the qrels, so nDCG@10 = Recall@100 = MRR@100 = |S| / |qrels queries|.
"""

from __future__ import annotations

import json

import pytest

from evaluation.runner import run_from_overrides
from evaluation.trec_io import read_qrels, read_topics


def write_corpus(path, queries: dict[str, str], qrels: dict[str, dict[str, int]], chosen: list[str]) -> None:
    docs, seen = [], set()
    for qid in chosen:
        for docid, rel in qrels[qid].items():
            if rel > 0 and docid not in seen:
                docs.append({"docid": docid, "title": "", "text": queries[qid]})
                seen.add(docid)
    for i, qid in enumerate(q for q in queries if q not in chosen):
        docs.append({"docid": f"distractor-{i}", "title": "", "text": queries[qid]})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")


def _pick(queries, qrels, n):
    """n queries with 1-10 relevant passages that no other query shares (so the others really score 0)."""
    owners: dict[str, set[str]] = {}
    for qid, docs in qrels.items():
        for d in docs:
            owners.setdefault(d, set()).add(qid)
    ok = [q for q in queries if q in qrels and 1 <= sum(r > 0 for r in qrels[q].values()) <= 10
          and all(owners[d] == {q} for d in qrels[q])]
    return ok[:n]


@pytest.mark.slow
@pytest.mark.parametrize(
    "task, subset, lang, topics, qrels_file, metrics",
    [
        ("MIRACLRetrieval", "sw", "sw", "miracl/topics/topics.miracl-v1.0-sw-dev.tsv",
         "miracl/qrels/qrels.miracl-v1.0-sw-dev.tsv", ["ndcg_at_10", "recall_at_100"]),
        ("MrTidyRetrieval", "swahili", "sw", "mrtydi/topics/topics.mrtydi-v1.1-sw.test.txt.gz",
         "mrtydi/qrels/qrels.mrtydi-v1.1-sw.test.txt", ["ndcg_at_10", "mrr_at_100", "mrr_at_10", "recall_at_100"]),
    ],
)
def test_trec_suites_run_from_local_files(data_root, tmp_path, task, subset, lang, topics, qrels_file, metrics):
    queries = read_topics(data_root / topics)
    assert len(set(queries.values())) == len(queries)  # distinct texts, so only a query's own passages tie at 1.0
    qrels = read_qrels(data_root / qrels_file)
    chosen = _pick(queries, qrels, 20)
    assert len(chosen) == 20
    write_corpus(tmp_path / "corpus" / lang / "corpus.jsonl", queries, qrels, chosen)

    [result] = run_from_overrides([
        "model=minilm", f"suite={'miracl' if task.startswith('MIRACL') else 'mrtydi'}", f"langs=[{subset}]",
        f"data.root={data_root}", f"data.paths.{task}={tmp_path / 'corpus'}",
        f"output.dir={tmp_path / 'results'}", f"cache.dir={tmp_path / 'cache'}"])

    [scores] = result.scores["dev" if task.startswith("MIRACL") else "test"]
    expected = len(chosen) / len(qrels)  # by hand: 20 perfect queries, every other judged query scores 0
    for metric in metrics:
        assert scores[metric] == pytest.approx(expected, abs=1e-6), metric
