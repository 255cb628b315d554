"""Small file helpers shared by the loaders (line reading, JSONL, existence checks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evaluation.data.types import Corpus
from evaluation.errors import DataError, DataFileError, MissingDataError
from evaluation.trec_io import open_text

FIX_HINT = "Fix: set data.root to the folder holding the public data, or data.paths.<Task> to this task's files."


def require_file(path: Path, what: str) -> Path:
    """Return ``path`` if it is a file, else raise MissingDataError naming it."""
    if not path.is_file():
        raise MissingDataError(what, [path], FIX_HINT)
    return path


def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise MissingDataError(what, [path], FIX_HINT)
    return path


def first_existing(candidates: list[Path], what: str) -> Path:
    """The first candidate that exists; otherwise MissingDataError listing every candidate."""
    for p in candidates:
        if p.exists():
            return p
    raise MissingDataError(what, candidates, FIX_HINT)


def read_lines(path: Path) -> list[str]:
    """All lines without their ending (blank lines kept: they carry meaning, e.g. unscored STS pairs).

    Only ``\\n`` ends a line (files are read with newline=""), so a U+2028 or lone ``\\r`` inside a
    sentence cannot shift the alignment between two line-aligned files; a ``\\r`` before ``\\n`` (CRLF)
    is dropped. A missing final newline is fine.
    """
    with open_text(path) as f:
        text = f.read()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def iter_jsonl(path: Path, start: int = 0, end: int | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for the non-blank lines ``start..end`` (0-based among non-blank lines; only those
    are parsed, so a shard reads its window of a huge corpus cheaply); bad JSON -> DataFileError(file:line)."""
    i = 0
    with open_text(path) as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            if end is not None and i >= end:
                return
            i += 1
            if i <= start:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataFileError(path, lineno, f"expected a JSON object, got invalid JSON ({e.msg})") from None
            if not isinstance(obj, dict):
                raise DataFileError(path, lineno, f"expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj


def read_corpus_jsonl(path: Path, id_key: str, start: int = 0, end: int | None = None, *,
                      ids_only: bool = False) -> Corpus:
    """Documents ``{id_key, "title", "text"}`` in file order (lines ``start..end``); a duplicate id is an error.
    BEIR names the id ``_id``, MIRACL / Mr.TyDi ``docid``; title and text stay separate (the encoder joins them).
    ``ids_only``: titles and texts are left empty (see FileCorpus)."""
    return next(iter_corpus_blocks(path, id_key, start, end, rows=None, ids_only=ids_only), Corpus([], [], []))


def iter_corpus_blocks(path: Path, id_key: str, start: int = 0, end: int | None = None, *, rows: int | None,
                       ids_only: bool = False) -> Iterator[Corpus]:
    """``read_corpus_jsonl``'s documents as consecutive Corpus blocks of ``rows`` documents (None: one block), read
    as they are asked for: a shard can encode its first blocks while the next ones are read."""
    block = Corpus([], [], [])
    seen: dict[str, int] = {}
    for lineno, obj in iter_jsonl(path, start, end):
        doc_id = str_field(path, lineno, obj, id_key)
        if doc_id in seen:
            raise DataFileError(path, lineno, f"duplicate document id {doc_id!r} (first at line {seen[doc_id]}); "
                                              f"keep one document per id")
        seen[doc_id] = lineno
        block.ids.append(doc_id)
        if not ids_only:
            block.titles.append(str_field(path, lineno, obj, "title", required=False))
            block.texts.append(str_field(path, lineno, obj, "text"))
        if rows is not None and len(block) == rows:
            yield block
            block = Corpus([], [], [])
    if len(block):
        yield block


class FileCorpus:
    """A local JSONL corpus with only its ids in memory; ``window(start, end)`` reads one shard's titles and texts.

    For a run whose shards were encoded by launcher workers: the driver needs the ids (to check and merge the
    stored shards), not the text. For MIRACL-en (32.9M passages) that is ~2 GB of ids instead of ~30 GB.
    """

    def __init__(self, path: Path, id_key: str):
        self.path, self.id_key = Path(path), id_key
        self.ids = read_corpus_jsonl(self.path, id_key, ids_only=True).ids

    def __len__(self) -> int:
        return len(self.ids)

    def window(self, start: int, end: int) -> Corpus:
        part = read_corpus_jsonl(self.path, self.id_key, start, end)
        if part.ids != self.ids[start:end]:
            raise DataFileError(self.path, None, f"documents {start}..{end} changed while the run was reading the "
                                                 f"file; rerun once it is complete")
        return part


def str_field(path: Path, lineno: int, obj: dict[str, Any], key: str, required: bool = True) -> str:
    """A string field of a JSON object (ids may be numbers in some dumps: they become strings)."""
    if key not in obj or obj[key] is None:
        if required:
            raise DataFileError(path, lineno, f"expected key {key!r}, got keys {sorted(obj)}")
        return ""
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise DataFileError(path, lineno, f"expected a string for {key!r}, got {type(value).__name__}")
    return str(value)


def check_judged_docs_in_corpus(qrels: dict[str, dict[str, int]], corpus_ids: list[str], qrels_path: Path,
                                corpus_path: Path) -> None:
    """Some judged documents missing from a corpus is normal (BEIR has such qrels); none there means the qrels and
    the corpus are from different datasets, versions or languages, and every score would be a silent 0."""
    judged = {docid for docs in qrels.values() for docid in docs}
    if judged and not any(doc_id in judged for doc_id in corpus_ids):  # stops at the first hit
        raise DataError(
            f"{qrels_path}: none of the {len(judged)} judged documents (e.g. {sorted(judged)[:3]}) is in the corpus "
            f"{corpus_path} ({len(corpus_ids)} documents, e.g. {corpus_ids[:3]}); point the task at the corpus its "
            f"qrels belong to (same dataset, version and language)"
        )


def count_lines(path: Path) -> int:
    """Number of non-blank lines (cheap: no parsing)."""
    with open_text(path) as f:
        return sum(1 for line in f if line.strip())
