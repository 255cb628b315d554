"""MIRACL / Mr.TyDi: TREC topics + qrels + a JSONL corpus (``docid``, ``title``, ``text``) -> RetrievalData.

Topics and qrels must name the same queries. On the real files they do (MIRACL v1.0 dev, 18 languages;
Mr.TyDi v1.1 test, 11 languages: topic qids == qrels qids, counted in tests/data/test_trec.py), so any
difference means mismatched files (wrong split or language):
- a qrels query missing from the topics is always an error (it could never be retrieved, yet trec_eval -c
  would count it as 0);
- a topic without qrels is an error unless ``allow_unjudged=True``; then it is dropped, which is what
  trec_eval (queries without judgments are not evaluated) and mteb (queries are filtered to the qrels) do.
Grades are kept as given, 0s included: mteb's MIRACL copy keeps the judged non-relevant passages too
(its unique_relevant_docs counts them).
"""

from __future__ import annotations

from pathlib import Path

from evaluation.data._files import FileCorpus, check_judged_docs_in_corpus, count_lines, read_corpus_jsonl
from evaluation.data.types import Corpus, RetrievalData, require_documents
from evaluation.errors import DataError
from evaluation.trec_io import read_qrels, read_topics


def _some(ids: list[str], n: int = 5) -> str:
    shown = ", ".join(repr(i) for i in ids[:n])
    return f"{len(ids)} ({shown}{', ...' if len(ids) > n else ''})"


def check_topics_qrels(
    topics: dict[str, str], qrels: dict[str, dict[str, int]], topics_path: Path, qrels_path: Path, allow_unjudged: bool
) -> dict[str, str]:
    """The queries to evaluate (topics order), after the consistency checks described in the module doc."""
    unknown = [q for q in qrels if q not in topics]
    if unknown:
        raise DataError(f"{qrels_path}: queries not in the topics file {topics_path}: {_some(unknown)}; use topics "
                        f"and qrels of the same language and split")
    unjudged = [q for q in topics if q not in qrels]
    if unjudged and (not allow_unjudged or len(unjudged) == len(topics)):
        raise DataError(
            f"{topics_path}: topics without any qrels in {qrels_path}: {_some(unjudged)}. "
            "Check that topics and qrels are the same language and split"
            + ("" if len(unjudged) == len(topics) else ", or pass allow_unjudged=True to drop them")
        )
    return {qid: text for qid, text in topics.items() if qid in qrels}


def read_jsonl_corpus(path: str | Path, lazy: bool = False) -> Corpus | FileCorpus:
    """Mr.TyDi / MIRACL corpus: one ``{"docid", "title", "text"}`` per line (.jsonl or .jsonl.gz); ``lazy``: a
    FileCorpus (ids in memory, texts read per shard window)."""
    corpus = FileCorpus(Path(path), "docid") if lazy else read_corpus_jsonl(Path(path), "docid")
    require_documents(len(corpus), path)
    return corpus


def read_trec_queries(topics_path: str | Path, qrels_path: str | Path, allow_unjudged: bool = False):
    """(queries to evaluate, qrels), checked against each other."""
    topics_path, qrels_path = Path(topics_path), Path(qrels_path)
    topics, qrels = read_topics(topics_path), read_qrels(qrels_path)
    return check_topics_qrels(topics, qrels, topics_path, qrels_path, allow_unjudged), qrels


def read_trec_retrieval(
    topics_path: str | Path, qrels_path: str | Path, corpus_path: str | Path, allow_unjudged: bool = False,
    lazy_corpus: bool = False,
) -> RetrievalData:
    queries, qrels = read_trec_queries(topics_path, qrels_path, allow_unjudged)
    corpus = read_jsonl_corpus(corpus_path, lazy_corpus)
    check_judged_docs_in_corpus(qrels, corpus.ids, Path(qrels_path), Path(corpus_path))
    return RetrievalData(corpus=corpus, queries=queries, qrels=qrels)


def count_trec(topics_path: Path, qrels_path: Path, corpus_path: Path | None) -> dict[str, int | None]:
    """Judged queries, and corpus lines when the corpus is there (None otherwise)."""
    topics, qrels = read_topics(topics_path), read_qrels(qrels_path)
    queries = sum(1 for q in topics if q in qrels)
    documents = count_lines(corpus_path) if corpus_path is not None and corpus_path.is_file() else None
    return {"queries": queries, "documents": documents}
