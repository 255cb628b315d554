"""Content-addressed embedding cache for non-sharded texts (queries, STS sentences, classification texts).

Key = sha256 of (model fingerprint, protocol, prompt type, final input text after the prompt/instruction
was applied, max_length, normalize). Unlike mteb's cache (its issue #5383) the prompt type is part of the
key, so the same text encoded as a query and as a passage is two entries.

Storage, per namespace ``<dir>/embeddings/<namespace>/``:
- immutable chunk files ``chunk-<uuid>.npy`` (float32, at most ``CHUNK_BYTES`` each), written atomically;
- ``index.sqlite`` (stdlib sqlite3, WAL): key -> (chunk, row), and each chunk's rows, byte size, sha256.
Lookups read only the rows asked for (memmap), so millions of rows never load at once.

float32, not fp16: a warm run must reproduce the cold run's scores bit for bit. Disk cost is 4 B x dim per
text: 1M texts x 1024 dims = 4.1 GB (queries of all paper tasks together are far below that).

Concurrency: writers of one namespace serialise on a file lock (chunk write + index transaction); readers
need no lock (WAL), and an index row is committed only after its chunk file is complete. SQLite's WAL needs
a filesystem with working shared memory and locks: keep ``cache.dir`` on a local disk or a POSIX-locking
parallel filesystem, not plain NFS. A crash between a chunk's rename and its index commit leaves an
unreferenced chunk file: wasted disk, never read.

Corruption: a chunk whose size, header or sha256 (hashed once per process) is wrong is never read: a
warning is logged, its index rows are dropped and the file deleted, so its keys become misses and are
re-encoded. An ``index.sqlite`` that is not a SQLite database (or is malformed) is rebuilt, not an error: the index
only saves re-encoding, so the old index and its chunk files (unreachable without it) move to
``corrupt-<timestamp>/`` in the namespace folder (delete it to free the space), a warning says so, and the run
re-encodes what it needs. A read-only ``cache.dir`` or a full disk is an UnwritableError naming the path.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np

from evaluation.atomic import atomic_writer, locked, unwritable_error, writing
from evaluation.errors import CacheError
from evaluation.fingerprint import sha256_of
from evaluation.shards import HashingWriter, check_npy_header

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 << 20  # small enough to hash quickly on first read, large enough to keep file counts low
_SQL_BATCH = 900  # stay under SQLite's bound-parameter limit of old builds (999)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(id INTEGER PRIMARY KEY, file TEXT UNIQUE NOT NULL, n_rows INTEGER NOT NULL,
                                  nbytes INTEGER NOT NULL, sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows(key TEXT PRIMARY KEY, chunk INTEGER NOT NULL, row INTEGER NOT NULL)
    WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rows_by_chunk ON rows(chunk);
"""


def cache_key(
    model_fingerprint: str, protocol: str, prompt_type: str, text: str, max_length: int, normalize: bool
) -> str:
    """The cache key of one input; ``text`` is the final model input (prompt/instruction already applied)."""
    blob = json.dumps([model_fingerprint, protocol, prompt_type, text, int(max_length), bool(normalize)],
                      ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """float32 embeddings by key; safe for several processes (and hosts sharing a locking filesystem)."""

    def __init__(self, dir: str | Path, namespace: str):
        safe = namespace.replace("/", "__").replace("\\", "__")
        if safe in ("", ".", ".."):
            raise CacheError(f"invalid cache namespace {namespace!r}; use e.g. the model name")
        self.dir = Path(dir) / "embeddings" / safe
        with writing(self.dir):
            self.dir.mkdir(parents=True, exist_ok=True)
        self._db_path = self.dir / "index.sqlite"
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._verified: set[str] = set()  # chunk files whose sha256 passed in this process
        with self._write_lock(), self._sqlite_errors():
            try:
                self._db().executescript(_SCHEMA)
            except sqlite3.DatabaseError as e:
                if not _is_corrupt(e):
                    raise
                self._set_aside_corrupt_index(e)
                self._db().executescript(_SCHEMA)

    # -- plumbing -------------------------------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        # One connection per process: a sqlite3 connection inherited through fork is unsafe to use.
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(self._db_path, timeout=120, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL survives a killed process (our failure mode); a power cut may lose the last puts.
            conn.execute("PRAGMA synchronous=NORMAL")
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _write_lock(self):
        return locked(self._db_path)

    @contextmanager
    def _sqlite_errors(self) -> Iterator[None]:
        """SQLite's read-only / cannot-open / full-disk errors -> the UnwritableError an OSError would give."""
        try:
            yield
        except sqlite3.OperationalError as e:
            name = getattr(e, "sqlite_errorname", None) or _SQLITE_MESSAGES.get(str(e))  # the name: Python >= 3.11
            code = {"SQLITE_READONLY": errno.EROFS, "SQLITE_CANTOPEN": errno.EACCES, "SQLITE_FULL": errno.ENOSPC}.get(
                name or "")
            if code is None:
                raise
            raise unwritable_error(self._db_path, OSError(code, str(e))) from e

    def _set_aside_corrupt_index(self, error: sqlite3.DatabaseError) -> None:
        """Move the index (+ its WAL files) and every chunk file to corrupt-<timestamp>/; the caller rebuilds."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        aside = self.dir / f"corrupt-{datetime.now():%Y%m%dT%H%M%S%f}"
        with writing(aside):
            aside.mkdir()
            chunks = sorted(self.dir.glob("chunk-*.npy"))
            for path in [*self.dir.glob("index.sqlite*"), *chunks]:
                if not path.name.endswith(".lock"):  # we hold it
                    os.replace(path, aside / path.name)
        log.warning("embedding cache index %s is not usable (%s): moved it and its %d chunk files to %s (delete that "
                    "folder to free the space); rebuilding the index, the embeddings are re-encoded as needed",
                    self._db_path, error, len(chunks), aside)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._sqlite_errors():
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")  # leave the connection usable; the error propagates
                raise
            db.execute("COMMIT")

    @property
    def dim(self) -> int | None:
        row = self._db().execute("SELECT v FROM meta WHERE k='dim'").fetchone()
        return int(row[0]) if row else None

    def __len__(self) -> int:
        return self._db().execute("SELECT COUNT(*) FROM rows").fetchone()[0]

    # -- reads ----------------------------------------------------------------------------------------------
    def get_many(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(found mask [n] bool, embeddings [n, dim] float32 with zero rows for misses); dim 0 if empty."""
        dim = self.dim
        found = np.zeros(len(keys), dtype=bool)
        out = np.zeros((len(keys), dim or 0), dtype=np.float32)
        if dim is None or not keys:
            return found, out
        positions: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            positions.setdefault(k, []).append(i)
        by_chunk: dict[tuple, list[tuple[int, str]]] = {}
        uniq = list(positions)
        for s in range(0, len(uniq), _SQL_BATCH):
            part = uniq[s : s + _SQL_BATCH]
            sql = ("SELECT r.key, r.row, c.id, c.file, c.n_rows, c.nbytes, c.sha256 FROM rows r "
                   f"JOIN chunks c ON c.id = r.chunk WHERE r.key IN ({','.join('?' * len(part))})")
            for key, row, *chunk in self._db().execute(sql, part):
                by_chunk.setdefault(tuple(chunk), []).append((row, key))
        for chunk, wanted in by_chunk.items():
            arr = self._open_chunk(*chunk, dim=dim)
            if arr is None:
                continue
            values = np.asarray(arr[[r for r, _ in wanted]])  # reads only these rows of the memmap
            for (_, key), v in zip(wanted, values, strict=True):
                out[positions[key]] = v
                found[positions[key]] = True
        return found, out

    def _open_chunk(self, cid: int, file: str, n_rows: int, nbytes: int, sha: str, dim: int):
        """The chunk as a memmap, or None after dropping it if it is corrupt."""
        path = self.dir / file
        problem = None
        if not path.exists():
            problem = "file missing"
        elif path.stat().st_size != nbytes:
            problem = f"truncated or grown: {path.stat().st_size} bytes, index says {nbytes}"
        else:
            problem = check_npy_header(path, (n_rows, dim), "float32")
        if problem is None and file not in self._verified:
            if sha256_of(path) != sha:
                problem = "checksum mismatch"
            else:
                self._verified.add(file)
        if problem is None:
            return np.load(path, mmap_mode="r", allow_pickle=False)
        log.warning("embedding cache chunk %s is corrupt (%s): dropping its %d rows; they will be re-encoded",
                    path, problem, n_rows)
        self._drop_chunk(cid, path)
        return None

    def _drop_chunk(self, cid: int, path: Path) -> None:
        with self._write_lock(), self._transaction() as db:
            db.execute("DELETE FROM rows WHERE chunk=?", (cid,))
            db.execute("DELETE FROM chunks WHERE id=?", (cid,))
        path.unlink(missing_ok=True)

    # -- writes ---------------------------------------------------------------------------------------------
    def put_many(self, keys: Sequence[str], embeddings: np.ndarray) -> int:
        """Store rows whose key is not cached yet (first writer wins); returns how many were added."""
        arr = np.ascontiguousarray(embeddings, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[0] != len(keys):
            raise ValueError(f"{len(keys)} keys but embeddings of shape {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError("refusing to cache non-finite embeddings (NaN/inf from the model)")
        first = {k: i for i, k in reversed(list(enumerate(keys)))}  # dedupe: first occurrence of each key
        with self._write_lock():
            self._set_dim(arr.shape[1])
            have = self._existing(list(first))
            new = [(k, i) for k, i in first.items() if k not in have]
            rows_per_chunk = max(1, CHUNK_BYTES // max(1, 4 * arr.shape[1]))
            for s in range(0, len(new), rows_per_chunk):
                part = new[s : s + rows_per_chunk]
                self._write_chunk([k for k, _ in part], arr[[i for _, i in part]])
        return len(new)

    def _set_dim(self, dim: int) -> None:
        have = self.dim
        if have is None:
            self._db().execute("INSERT INTO meta(k, v) VALUES ('dim', ?)", (str(dim),))
        elif have != dim:
            raise CacheError(
                f"cache namespace {self.dir} holds {have}-dim embeddings, got {dim}-dim ones; "
                "use one namespace per model (e.g. the model fingerprint)"
            )

    def _existing(self, keys: list[str]) -> set[str]:
        have: set[str] = set()
        for s in range(0, len(keys), _SQL_BATCH):
            part = keys[s : s + _SQL_BATCH]
            sql = f"SELECT key FROM rows WHERE key IN ({','.join('?' * len(part))})"
            have.update(k for (k,) in self._db().execute(sql, part))
        return have

    def _write_chunk(self, keys: list[str], arr: np.ndarray) -> None:
        file = f"chunk-{uuid.uuid4().hex}.npy"  # never reuses the name of an orphan left by a crash
        with atomic_writer(self.dir / file) as f, writing(self.dir / file):
            hw = HashingWriter(f)
            np.save(hw, arr, allow_pickle=False)
        with self._transaction() as db:
            cur = db.execute("INSERT INTO chunks(file, n_rows, nbytes, sha256) VALUES (?, ?, ?, ?)",
                             (file, arr.shape[0], hw.n, hw.h.hexdigest()))
            db.executemany("INSERT INTO rows(key, chunk, row) VALUES (?, ?, ?)",
                           ((k, cur.lastrowid, r) for r, k in enumerate(keys)))
        self._verified.add(file)  # we just hashed what we wrote


_SQLITE_MESSAGES = {"attempt to write a readonly database": "SQLITE_READONLY",
                    "unable to open database file": "SQLITE_CANTOPEN", "database or disk is full": "SQLITE_FULL"}


def _is_corrupt(error: sqlite3.DatabaseError) -> bool:
    """Not a database / malformed (as opposed to locked, read-only or full: those are not the file's fault)."""
    name = getattr(error, "sqlite_errorname", "")  # Python >= 3.11
    return name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or str(error) in (
        "file is not a database", "database disk image is malformed")


def cached_encode(
    cache: EmbeddingCache | None,
    keys_texts: Sequence[tuple[str, str]],
    encode_fn: Callable[[list[str]], np.ndarray],
    batch_size: int,
) -> np.ndarray:
    """Embeddings [n, dim] float32 in input order, encoding only cache misses, each distinct key once.

    ``encode_fn`` gets lists of at most ``batch_size`` texts; pass a large batch_size (thousands) so the
    encoder can sort by length inside a call. Results are stored every ``CHUNK_BYTES`` of new rows, so a crash
    loses at most that much work. ``cache=None`` (cache disabled) still deduplicates.
    """
    keys = [k for k, _ in keys_texts]
    if cache is not None:
        found, cached = cache.get_many(keys)
    else:
        found, cached = np.zeros(len(keys), dtype=bool), np.zeros((len(keys), 0), np.float32)
    todo: dict[str, str] = {}
    for (k, text), hit in zip(keys_texts, found, strict=True):
        if not hit:
            todo.setdefault(k, text)
    fresh = _encode_and_store(cache, list(todo.items()), encode_fn, batch_size)
    dim = cached.shape[1] if found.any() else next((v.shape[0] for v in fresh.values()), 0)
    out = np.empty((len(keys), dim), dtype=np.float32)
    for i, k in enumerate(keys):
        out[i] = cached[i] if found[i] else fresh[k]
    return out


def _encode_and_store(cache, items, encode_fn, batch_size) -> dict[str, np.ndarray]:
    fresh: dict[str, np.ndarray] = {}
    pending: list[tuple[str, np.ndarray]] = []
    for s in range(0, len(items), batch_size):
        batch = items[s : s + batch_size]
        emb = np.asarray(encode_fn([t for _, t in batch]), dtype=np.float32)
        if emb.shape[0] != len(batch):
            raise ValueError(f"encode_fn returned {emb.shape[0]} embeddings for {len(batch)} texts")
        for (k, _), v in zip(batch, emb, strict=True):
            fresh[k] = v
            pending.append((k, v))
        last = s + batch_size >= len(items)
        if cache is not None and pending and (last or len(pending) * emb.shape[1] * 4 >= CHUNK_BYTES):
            cache.put_many([k for k, _ in pending], np.stack([v for _, v in pending]))
            pending = []
    return fresh
