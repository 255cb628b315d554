"""A local JSONL corpus read one shard at a time: its document count, and the window of one shard's documents.

A sweep worker reads only its shard of a local JSONL corpus (BEIR, MIRACL, Mr.TyDi): documents ``start..end`` of the
shard plan, parsed exactly as the loaders parse them (``read_corpus_jsonl``), so its memory and parsing cost follow
the shard size, not the corpus (MIRACL-en: 32.9M passages). The corpus size comes from one line count per file,
remembered in ``<cache.dir>/corpus-counts/`` so only the first reader of a 10 GB file scans it to the end.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from evaluation.atomic import atomic_write_json
from evaluation.data import _files
from evaluation.data.types import Corpus
from evaluation.errors import DataFileError

log = logging.getLogger(__name__)


class _Window(Sequence):
    """Items ``start..start+len(items)`` of a sequence of length ``n``; other positions are not loaded."""

    def __init__(self, n: int, start: int, items: list):
        self.n, self.start, self.items = n, start, items

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        end = self.start + len(self.items)
        if isinstance(i, slice):
            lo, hi, step = i.indices(self.n)
            if step != 1 or (hi > lo and not (self.start <= lo and hi <= end)):
                raise IndexError(f"slice {lo}:{hi} outside the loaded window {self.start}:{end}")
            return self.items[lo - self.start : hi - self.start] if hi > lo else []
        i = i + self.n if i < 0 else i
        if not self.start <= i < end:
            raise IndexError(f"item {i} outside the loaded window {self.start}:{end}")
        return self.items[i - self.start]


def corpus_count(path: Path, cache_dir: str) -> int:
    """Documents (non-blank lines) of a JSONL corpus, remembered per (path, size, mtime) under the cache dir."""
    path = Path(path).resolve()
    st = path.stat()
    ident = {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    memo = Path(cache_dir, "corpus-counts", hashlib.sha256(str(path).encode()).hexdigest()[:16] + ".json")
    try:
        rec = json.loads(memo.read_text(encoding="utf-8"))
    except FileNotFoundError:
        rec = None  # the first count of this file
    except (OSError, ValueError) as e:
        log.warning("corpus count memo %s is unreadable (%s); counting the lines again", memo, e)
        rec = None
    if isinstance(rec, dict) and {k: rec.get(k) for k in ident} == ident and isinstance(rec.get("documents"), int):
        return rec["documents"]
    n = _files.count_lines(path)
    atomic_write_json(memo, {**ident, "documents": n})
    return n


def read_corpus_window(path: Path, id_key: str, n_docs: int, start: int, end: int) -> Corpus:
    """A Corpus of length ``n_docs`` holding only documents ``start..end`` (file order, blank lines skipped, read by
    the loaders' own reader): memory and JSON parsing bounded by the shard."""
    window = _files.read_corpus_jsonl(path, id_key, start, end)
    if len(window) != end - start:
        raise DataFileError(path, None, f"has fewer documents than the {n_docs} counted before: changed while "
                                        f"running?")
    return Corpus(_Window(n_docs, start, window.ids), _Window(n_docs, start, window.titles),
                  _Window(n_docs, start, window.texts))
