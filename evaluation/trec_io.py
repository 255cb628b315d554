"""TREC-style files: qrels, runs, topics.

Conventions (chosen to match trec_eval / pytrec_eval, which score the files we write):
- qids and docids are strings everywhere (MIRACL has qids like ``81674#0``).
- qrels: a repeated (qid, docid) pair keeps the LAST grade, as trec_eval and pytrec_eval do
  (both end up with one entry per pair; the later line wins), so no error is raised.
- runs: a repeated (qid, docid) pair is an error, because trec_eval refuses such runs
  ("duplicate docs") and a silent choice would change the scores.
- runs are written in trec_eval's own order: score descending, ties broken by docid
  DESCENDING (trec_eval's tie-break), ranks 1..n; scores keep full float precision so that
  trec_eval's re-sort of the file gives back exactly our order.
- blank lines are skipped (many files end with one); any other malformed line raises
  ``DataFileError`` naming ``file:line``.
- ``.gz`` files are read transparently.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from evaluation.atomic import atomic_writer
from evaluation.errors import DataFileError

BEIR_QRELS_HEADER = ("query-id", "corpus-id", "score")


def open_text(path: str | Path) -> IO[str]:
    """Open a UTF-8 text file, gunzipping ``.gz`` on the fly."""
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without its line ending), skipping blank lines."""
    with open_text(path) as f:
        for lineno, raw in enumerate(f, start=1):
            line = raw.rstrip("\r\n")
            if line.strip():
                yield lineno, line


def _int(path: Path, lineno: int, value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise DataFileError(path, lineno, f"expected an integer {what}, got {value!r}") from None


def _float(path: Path, lineno: int, value: str, what: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise DataFileError(path, lineno, f"expected a number {what}, got {value!r}") from None


def read_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """Read TREC qrels (``qid Q0 docid rel``) or BEIR qrels tsv (header + ``qid docid rel``).

    The layout is fixed by the first data line (4 fields = TREC, 3 = BEIR); every later line
    must have the same number of fields. Grades are kept as given (0 = judged non-relevant).
    """
    path = Path(path)
    qrels: dict[str, dict[str, int]] = {}
    n_fields: int | None = None
    for lineno, line in iter_lines(path):
        fields = line.split()
        if n_fields is None and tuple(fields) == BEIR_QRELS_HEADER:
            continue
        if n_fields is None:
            if len(fields) not in (3, 4):
                raise DataFileError(
                    path, lineno, f"expected 'qid Q0 docid rel' or 'qid docid rel', got {len(fields)} fields: {line!r}"
                )
            n_fields = len(fields)
        if len(fields) != n_fields:
            layout = "qid Q0 docid rel" if n_fields == 4 else "qid docid rel"
            raise DataFileError(path, lineno, f"expected {n_fields} fields ({layout}), got {len(fields)}: {line!r}")
        qid, docid, rel = fields[0], fields[-2], fields[-1]
        qrels.setdefault(qid, {})[docid] = _int(path, lineno, rel, "relevance grade")
    return qrels


def read_run(path: str | Path) -> dict[str, dict[str, float]]:
    """Read a TREC run (``qid Q0 docid rank score tag``); rank and tag are checked, then dropped."""
    path = Path(path)
    run: dict[str, dict[str, float]] = {}
    for lineno, line in iter_lines(path):
        fields = line.split()
        if len(fields) != 6:
            raise DataFileError(
                path, lineno, f"expected 6 fields 'qid Q0 docid rank score tag', got {len(fields)}: {line!r}"
            )
        qid, _, docid, rank, score, _tag = fields
        _int(path, lineno, rank, "rank")
        docs = run.setdefault(qid, {})
        if docid in docs:
            raise DataFileError(path, lineno, f"duplicate document {docid!r} for query {qid!r} (trec_eval rejects it)")
        docs[docid] = _float(path, lineno, score, "score")
    return run


def trec_order(scores: Sequence[float], docids: Sequence[str]) -> list[int]:
    """Positions of the documents in trec_eval's evaluation order: score descending, then docid descending
    (trec_eval's strcmp; Python's str order is the same for UTF-8). The one definition of that order: the run
    files, the metrics' ``-M`` cut and the search's tie-breaks all use it."""
    return sorted(range(len(docids)), key=lambda j: (scores[j], docids[j]), reverse=True)


def write_run(
    path: str | Path, run: dict[str, dict[str, float]], tag: str = "me5-eval", depth: int | None = None
) -> None:
    """Write a run atomically (evaluation.atomic), top ``depth`` per query in trec_eval order."""
    path = Path(path)
    if not tag or any(c.isspace() for c in tag):
        raise ValueError(f"run tag must be a non-empty word without spaces, got {tag!r}")
    # one string per query (30k f-string writes cost more than the search on a small task's warm rerun);
    # repr keeps every bit of the float, so re-reading gives the same ties
    with atomic_writer(path, "wb") as f:
        for qid in sorted(run):
            docids, scores = list(run[qid]), list(run[qid].values())
            ranked = trec_order(scores, docids)[:depth]
            f.write("".join(f"{qid} Q0 {docids[j]} {rank} {float(scores[j])!r} {tag}\n"
                            for rank, j in enumerate(ranked, start=1)).encode("utf-8"))


def read_topics(path: str | Path) -> dict[str, str]:
    """Read ``qid<TAB>text`` topics (.tsv, .txt, optionally .gz) in file order."""
    path = Path(path)
    topics: dict[str, str] = {}
    for lineno, line in iter_lines(path):
        qid, sep, text = line.partition("\t")
        if not sep or not qid.strip() or not text.strip():
            raise DataFileError(path, lineno, f"expected 'qid<TAB>query text', got {line!r}")
        if qid in topics:
            raise DataFileError(path, lineno, f"duplicate query id {qid!r}")
        topics[qid] = text
    return topics
