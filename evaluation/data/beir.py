"""BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) -> RetrievalData.

As BEIR and mteb do, only the queries named in the split's qrels are kept (queries.jsonl may hold every
split's queries). Title and text stay separate: how they are joined is the encoder's business.
"""

from __future__ import annotations

from pathlib import Path

from evaluation.data._files import (
    FileCorpus,
    check_judged_docs_in_corpus,
    count_lines,
    iter_jsonl,
    read_corpus_jsonl,
    require_file,
    str_field,
)
from evaluation.data.types import Corpus, RetrievalData, require_documents
from evaluation.errors import DataError, DataFileError
from evaluation.trec_io import read_qrels


def _jsonl(directory: Path, stem: str) -> Path:
    """``<stem>.jsonl`` or ``<stem>.jsonl.gz``."""
    plain = directory / f"{stem}.jsonl"
    gz = directory / f"{stem}.jsonl.gz"
    return gz if gz.is_file() and not plain.is_file() else require_file(plain, f"BEIR {stem} ({directory})")


def read_beir_corpus(path: str | Path) -> Corpus:
    """BEIR corpus lines ``{"_id", "title", "text", ...}`` in file order; duplicate ids are an error."""
    return read_corpus_jsonl(Path(path), "_id")


def read_beir_queries(path: str | Path) -> dict[str, str]:
    path = Path(path)
    queries: dict[str, str] = {}
    for lineno, obj in iter_jsonl(path):
        qid = str_field(path, lineno, obj, "_id")
        if qid in queries:
            raise DataFileError(path, lineno, f"duplicate query id {qid!r}")
        queries[qid] = str_field(path, lineno, obj, "text")
    return queries


def read_beir(directory: str | Path, split: str = "test", lazy_corpus: bool = False) -> RetrievalData:
    """``lazy_corpus``: the corpus is a FileCorpus (ids in memory, texts read per shard window)."""
    directory = Path(directory)
    qrels_path = require_file(directory / "qrels" / f"{split}.tsv", f"BEIR qrels for split {split!r}")
    qrels = read_qrels(qrels_path)
    if not qrels:
        raise DataFileError(qrels_path, None, "holds no relevance judgement; expected a header and then "
                                              "'query-id<TAB>corpus-id<TAB>score' lines")
    all_queries = read_beir_queries(_jsonl(directory, "queries"))
    missing = [q for q in qrels if q not in all_queries]
    if missing:
        raise DataError(f"{qrels_path}: {len(missing)} judged queries are not in queries.jsonl, e.g. {missing[:5]}")
    queries = {qid: text for qid, text in all_queries.items() if qid in qrels}
    path = _jsonl(directory, "corpus")
    corpus = FileCorpus(path, "_id") if lazy_corpus else read_beir_corpus(path)
    require_documents(len(corpus), directory)
    check_judged_docs_in_corpus(qrels, corpus.ids, qrels_path, path)
    return RetrievalData(corpus=corpus, queries=queries, qrels=qrels)


def count_beir(directory: str | Path, split: str = "test") -> dict[str, int]:
    """Queries = judged queries of the split; documents = corpus lines (no JSON parsing)."""
    directory = Path(directory)
    qrels = read_qrels(require_file(directory / "qrels" / f"{split}.tsv", f"BEIR qrels for split {split!r}"))
    return {"queries": len(qrels), "documents": count_lines(_jsonl(directory, "corpus"))}
