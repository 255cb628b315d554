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
import math
import re
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from evaluation.atomic import atomic_writer, writing
from evaluation.errors import DataError, DataFileError

BEIR_QRELS_HEADER = ("query-id", "corpus-id", "score")
_WHITESPACE = re.compile(r"\s")


@contextmanager
def open_text(path: str | Path) -> Iterator[IO[str]]:
    """Open a UTF-8 text file (with or without a byte-order mark), gunzipping ``.gz`` on the fly; what goes wrong
    while reading it inside the ``with`` (bytes that are not UTF-8, a truncated or corrupt gzip) becomes one
    DataFileError naming the file and the fix."""
    path = Path(path)
    try:
        # utf-8-sig: a byte-order mark (Excel and Notepad write one) is dropped, so a header or a first JSON line
        # after it reads as what it is; without one it is plain UTF-8
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as f:
                yield f
        else:
            with open(path, encoding="utf-8-sig", newline="") as f:
                yield f
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except gzip.BadGzipFile:
        raise DataFileError(path, None, "not a gzip file; if it is plain text, drop the .gz from its name, else "
                                        "re-download it") from None
    except EOFError:
        raise DataFileError(path, None, "truncated: the gzip stream ends early (an interrupted download or copy); "
                                        "re-download it (`gzip -t FILE` checks a file)") from None
    except zlib.error as e:
        raise DataFileError(path, None, f"corrupt gzip data ({e}); re-download it (`gzip -t FILE` checks a file)"
                            ) from None


def _not_utf8(path: Path) -> DataFileError:
    """Where the first byte that is not UTF-8 is: line (``\\n``-separated), byte offset, the byte itself."""
    opener = gzip.open if path.suffix == ".gz" else open
    offset = 0
    with opener(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as e:
                where = "of the uncompressed text" if path.suffix == ".gz" else "in the file"
                return DataFileError(
                    path, lineno, f"not UTF-8: byte 0x{raw[e.start]:02x} at byte offset {offset + e.start} {where}; "
                                  f"re-encode the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)")
            offset += len(raw)
    return DataFileError(path, None, "not UTF-8 text; re-encode the file as UTF-8")


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
        number = float(value)
    except ValueError:
        raise DataFileError(path, lineno, f"expected a number {what}, got {value!r}") from None
    if not math.isfinite(number):  # NaN cannot be ranked; inf ties with every other inf, in no defined order
        raise DataFileError(path, lineno, f"expected a finite {what}, got {value!r}; fix the system that wrote "
                                          f"the file (NaN/inf usually come from an overflow)")
    return number


def read_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    """Read TREC qrels (``qid Q0 docid rel``) or BEIR qrels tsv (header + ``qid<TAB>docid<TAB>rel``).

    The layout is fixed by the first line: a line with a tab makes the file tab-separated, and then only tabs
    separate fields (BEIR ids may hold spaces, as mteb's tab-delimited reader keeps them); otherwise any
    whitespace does (trec_eval's own parsing). 4 fields = TREC, 3 = BEIR; every later line must have as many.
    Grades are kept as given (0 = judged non-relevant).
    """
    path = Path(path)
    qrels: dict[str, dict[str, int]] = {}
    layout: tuple[str | None, int] | None = None  # (separator, number of fields)
    for lineno, line in iter_lines(path):
        if layout is None:
            sep = "\t" if "\t" in line else None
            fields = line.split(sep)
            if tuple(fields) == BEIR_QRELS_HEADER:
                layout = (sep, 3)
                continue
            if len(fields) not in (3, 4):
                raise DataFileError(path, lineno, f"expected 'qid Q0 docid rel' or 'qid<TAB>docid<TAB>rel', got "
                                                  f"{len(fields)} fields: {line!r}")
            layout = (sep, len(fields))
        sep, n_fields = layout
        fields = line.split(sep)
        if len(fields) != n_fields:
            what = "tab-separated fields" if sep else "fields"
            names = "qid Q0 docid rel" if n_fields == 4 else "query-id, corpus-id, score"
            raise DataFileError(path, lineno, f"expected {n_fields} {what} ({names}) like the file's first line, "
                                              f"got {len(fields)}: {line!r}")
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


class RunIdError(DataError):
    """An id the TREC run format cannot hold; raised before anything is written, after the scores were computed."""


def _check_run_ids(path: Path, qid: str, docids: list[str]) -> None:
    if qid and "" not in docids and not _WHITESPACE.search("\0".join([qid, *docids])):
        return  # one regex pass per query: warm reruns write tens of thousands of ids
    for what, value in (("query", qid), *(("document", d) for d in docids)):
        if not value or _WHITESPACE.search(value):
            raise RunIdError(
                f"{path}: not written: {what} id {value!r} {'is empty' if not value else 'contains whitespace'}, which "
                f"a TREC run file cannot hold (trec_eval splits lines on whitespace); the scores in the result JSON "
                f"are right (computed in memory). For a run file, use ids without spaces (e.g. '_' for ' ') in the "
                f"corpus, queries and qrels"
            )


def write_run(
    path: str | Path, run: dict[str, dict[str, float]], tag: str = "me5-eval", depth: int | None = None
) -> None:
    """Write a run atomically (evaluation.atomic), top ``depth`` per query in trec_eval order.

    Raises RunIdError, writing nothing, when an id is empty or holds whitespace: trec_eval would misread the line.
    """
    path = Path(path)
    if not tag or any(c.isspace() for c in tag):
        raise ValueError(f"run tag must be a non-empty word without spaces, got {tag!r}")
    ranked = {}
    for qid in sorted(run):
        docids, scores = list(run[qid]), list(run[qid].values())
        ranked[qid] = [(docids[j], scores[j]) for j in trec_order(scores, docids)[:depth]]
    for qid, docs in ranked.items():
        _check_run_ids(path, qid, [docid for docid, _ in docs])
    # one string per query (30k f-string writes cost more than the search on a small task's warm rerun);
    # repr keeps every bit of the float, so re-reading gives the same ties
    with atomic_writer(path, "wb") as f, writing(path):
        for qid, docs in ranked.items():
            f.write("".join(f"{qid} Q0 {docid} {rank} {float(score)!r} {tag}\n"
                            for rank, (docid, score) in enumerate(docs, start=1)).encode("utf-8"))


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
