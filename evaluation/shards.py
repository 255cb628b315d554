"""Corpus shards: the work units of corpus encoding, stored so a crashed or re-run job reuses them safely.

A corpus of ``n_docs`` passages is cut into blocks of ``block_rows`` rows (the last one shorter), and the blocks
into ``n_shards`` contiguous, balanced ranges of whole blocks (``shard_plan``), a pure function of the three
numbers, so every worker of a Slurm array / Ray pool computes the same plan alone. The encoder sorts and batches
each block on its own (evaluation/models/batching.py), so any shard count runs the same batches.

Each encoded shard is two files in ``<cache>/shards/<key digest>/<task>/<subset>/<split>/<n_shards>/``:
``shard-00003.npy`` (``shard_dtype``: fp32, fp16 for MIRACL / Mr.TyDi; ``np.save`` format, memory-mappable) and
``shard-00003.json`` (manifest: key, docid range, sha256 of the docids and of the npy, format version, creation
time). The key digest in the path means a changed model/protocol/prompt/max_length/dtype never collides with old
files.

Integrity policy (``load_shard`` never returns bad data; it returns None and the caller recomputes):
- always: manifest parses, same format version, same ShardKey, same docids (sha256), npy size as recorded
  (catches truncation), npy header = (n_rows, dim) of the key's dtype;
- full sha256 of the npy: on every load until it passed once, then a ``shard-00003.verified`` stamp records
  the file's (inode, size, mtime_ns, ctime_ns). Any later write to the file changes ctime (which ``touch``
  cannot fake), so the stamp no longer matches and the next load hashes again. Like git's "racily clean"
  rule, no stamp is written while the file is younger than ``RACY_SECONDS``, because an edit within the
  filesystem's timestamp granularity would keep the same times. So a shard is read whole for hashing once.
- write order: old manifest removed, npy renamed into place, manifest renamed last, all under a file lock. A
  crash in between leaves an npy without manifest, which loads as "incomplete write".
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import NamedTuple

import numpy as np

from evaluation.atomic import atomic_write_json, atomic_writer, locked
from evaluation.fingerprint import sha256_of
from evaluation.suites import TREC_SUITES

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: shards are ranges of whole blocks, batched per block (key.block_rows)
RACY_SECONDS = 2.0  # files younger than this are re-hashed on load instead of stamped (see module doc)


class ShardRange(NamedTuple):
    index: int
    start: int  # first row (inclusive) in corpus order
    end: int  # last row (exclusive)

    @property
    def size(self) -> int:
        return self.end - self.start


def shard_plan(n_docs: int, n_shards: int, block_rows: int) -> list[ShardRange]:
    """Contiguous ranges of whole blocks covering ``range(n_docs)``; block counts differ by at most 1, the larger
    ones first. More shards than blocks gives empty trailing ranges rather than fewer shards, so worker ``i`` of an
    array job always has a shard ``i`` (an empty one is a no-op) and the plan never depends on who asks."""
    if n_shards < 1 or n_docs < 0 or block_rows < 1:
        raise ValueError(f"need n_shards >= 1, n_docs >= 0, block_rows >= 1; got {n_shards}, {n_docs}, {block_rows}")
    base, extra = divmod(-(-n_docs // block_rows), n_shards)
    ends = [min(n_docs, (base * (i + 1) + min(i + 1, extra)) * block_rows) for i in range(n_shards)]
    return [ShardRange(i, ends[i - 1] if i else 0, end) for i, end in enumerate(ends)]


def shard_dtype(setting: str, task_name: str) -> str:
    """The dtype corpus vectors are stored in (the run's ``shard_dtype``): ``auto`` keeps float32, what mteb and the
    authors score, except for MIRACL / Mr.TyDi, whose 100M-passage corpora are stored float16 (half the disk; the
    effect on scores is measured in docs/scale.md)."""
    if setting != "auto":
        return setting
    return "float16" if task_name in TREC_SUITES else "float32"


@dataclass(frozen=True)
class ShardKey:
    """Everything that must match for a stored shard to be reused."""

    model_fingerprint: str  # weights + pooling + code version, computed by the model loader
    protocol: str  # "paper" | "mteb"
    prompt: str  # prefix / instruction applied to passages (the final template, not a style name)
    max_length: int
    normalize: bool
    task: str
    subset: str
    split: str
    block_rows: int  # the blocks each sorted and batched on their own; a shard is a range of whole blocks
    n_docs: int  # corpus size: part of the plan, and a changed corpus must not reuse old shards
    n_shards: int
    dtype: str = "float16"  # shard_dtype(): float16 halves MIRACL's disk (106M x 1024 x 2 B = 217 GB), float32 exact
    # the corpus content (sha256 of its file, or the hub dataset revision; evaluation/identity.py corpus_digest):
    # texts edited under the same ids must not reuse old shards. None: unknown (left out, older keys stay valid)
    corpus: str | None = None

    def as_dict(self) -> dict:
        """The key's fields, without the unset optional ones (so adding one leaves older keys' digests alone)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def digest(self) -> str:
        blob = json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    def directory(self, root: str | Path) -> Path:
        parts = (self.digest(), self.task, self.subset, self.split, str(self.n_shards))
        return Path(root, "shards", *(_safe(p) for p in parts))

    def range(self, shard_index: int) -> ShardRange:
        if not 0 <= shard_index < self.n_shards:
            raise ValueError(f"shard index {shard_index} out of range for {self.n_shards} shards")
        return shard_plan(self.n_docs, self.n_shards, self.block_rows)[shard_index]


def _safe(name: str) -> str:
    """A path component: subsets like 'en/de' or '..' must not escape the cache dir."""
    name = name.replace("/", "_").replace("\\", "_")
    return "_" if name in ("", ".", "..") else name


class ShardPaths(NamedTuple):
    npy: Path
    manifest: Path
    stamp: Path


def shard_paths(root: str | Path, key: ShardKey, shard_index: int) -> ShardPaths:
    base = key.directory(root) / f"shard-{shard_index:05d}"
    return ShardPaths(base.with_suffix(".npy"), base.with_suffix(".json"), base.with_suffix(".verified"))


def looks_stored(root: str | Path, key: ShardKey, shard_index: int) -> bool:
    """A cheap look (manifest + npy size, no hashing, no docids) whether the shard is stored: what a sweep needs to
    leave it out. ``load_shard`` does the full check later and recomputes anything that fails it."""
    paths = shard_paths(root, key, shard_index)
    try:
        m = json.loads(paths.manifest.read_text(encoding="utf-8"))
        size = paths.npy.stat().st_size
    except (OSError, ValueError):
        return False  # no manifest or npy, or an unreadable manifest: not stored
    rng = key.range(shard_index)
    return (isinstance(m, dict) and m.get("format_version") == FORMAT_VERSION and m.get("key") == key.as_dict()
            and (m.get("shard_index"), m.get("start"), m.get("end")) == (shard_index, rng.start, rng.end)
            and m.get("npy_bytes") == size)


def docids_sha256(doc_ids: Sequence[str]) -> str:
    # TREC docids contain no whitespace, so "\n" separates them unambiguously.
    return hashlib.sha256("\n".join(doc_ids).encode("utf-8")).hexdigest()


class HashingWriter:
    """File wrapper that hashes what np.save writes, so a multi-GB shard is not read back just to hash it."""

    def __init__(self, f):
        self.f, self.h, self.n = f, hashlib.sha256(), 0

    def write(self, b) -> int:
        self.h.update(b)
        self.n += len(b)
        return self.f.write(b)


def _all_finite(arr: np.ndarray, rows: int = 1 << 16) -> bool:
    # Row blocks: np.isfinite on a whole 1M x 1024 shard would allocate a 1 GB bool array.
    return all(np.isfinite(arr[i : i + rows]).all() for i in range(0, arr.shape[0], rows))


def write_shard(
    root: str | Path, key: ShardKey, shard_index: int, doc_ids: Sequence[str], embeddings: np.ndarray
) -> Path:
    """Store one shard (npy + manifest) atomically under a lock; returns the npy path."""
    rng = key.range(shard_index)
    with np.errstate(over="ignore"):  # an fp16 overflow becomes inf, which the check below reports
        arr = np.ascontiguousarray(embeddings, dtype=np.dtype(key.dtype))
    if arr.ndim != 2 or arr.shape[0] != len(doc_ids) or len(doc_ids) != rng.size:
        raise ValueError(
            f"shard {shard_index} covers rows {rng.start}:{rng.end} ({rng.size} docs) but got "
            f"{len(doc_ids)} docids and embeddings of shape {embeddings.shape}"
        )
    if not _all_finite(arr):  # NaN from the model, or fp16 overflow of unnormalised vectors
        raise ValueError(f"shard {shard_index}: embeddings have non-finite values as {key.dtype}")
    paths = shard_paths(root, key, shard_index)
    with locked(paths.npy):
        paths.manifest.unlink(missing_ok=True)  # from here on the old shard is invalid, whatever happens
        paths.stamp.unlink(missing_ok=True)
        with atomic_writer(paths.npy) as f:
            hw = HashingWriter(f)
            np.save(hw, arr, allow_pickle=False)
        manifest = {
            "format_version": FORMAT_VERSION,
            "key": key.as_dict(),
            "shard_index": shard_index,
            "start": rng.start,
            "end": rng.end,
            "n_rows": int(arr.shape[0]),
            "dim": int(arr.shape[1]),
            "dtype": key.dtype,
            "first_docid": doc_ids[0] if len(doc_ids) else None,
            "last_docid": doc_ids[-1] if len(doc_ids) else None,
            "docids_sha256": docids_sha256(doc_ids),
            "npy_sha256": hw.h.hexdigest(),
            "npy_bytes": hw.n,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        atomic_write_json(paths.manifest, manifest)
    return paths.npy


def load_shard(
    root: str | Path, key: ShardKey, shard_index: int, expected_doc_ids: Sequence[str]
) -> np.ndarray | None:
    """The shard's embeddings as a read-only memmap, or None (logging why) if it must be recomputed."""
    paths = shard_paths(root, key, shard_index)
    if not paths.npy.exists() and not paths.manifest.exists():
        log.info("shard %d of %s/%s/%s not cached yet", shard_index, key.task, key.subset, key.split)
        return None
    with locked(paths.npy):  # a concurrent writer must not swap the npy between our checks and np.load
        problem = _check_shard(paths, key, shard_index, expected_doc_ids)
        if problem is None:
            return np.load(paths.npy, mmap_mode="r", allow_pickle=False)
    log.warning("shard %s is unusable (%s); it will be recomputed", paths.npy, problem)
    return None


def _check_shard(paths: ShardPaths, key: ShardKey, shard_index: int, doc_ids: Sequence[str]) -> str | None:
    """None if the files are a valid copy of this shard, else the reason (policy: see the module doc)."""
    if not paths.manifest.exists():
        return "incomplete write: npy without manifest"
    try:
        m = json.loads(paths.manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return f"manifest unreadable: {e}"
    if not isinstance(m, dict):
        return "manifest is not a JSON object"
    if m.get("format_version") != FORMAT_VERSION:
        return f"manifest format version {m.get('format_version')!r}, expected {FORMAT_VERSION}"
    problem = _compare_key(m, key, shard_index) or _compare_docids(m, doc_ids)
    if problem:
        return problem
    if not paths.npy.exists():
        return "npy file missing"
    size, want = paths.npy.stat().st_size, m.get("npy_bytes")
    if size != want:
        kind = "truncated" if isinstance(want, int) and size < want else "wrong size"
        return f"{kind}: npy has {size} bytes, manifest says {want}"
    header = check_npy_header(paths.npy, (m.get("n_rows"), m.get("dim")), key.dtype)
    return header or _check_checksum(paths, m)


def _compare_key(m: dict, key: ShardKey, shard_index: int) -> str | None:
    stored = m.get("key") if isinstance(m.get("key"), dict) else {}
    diffs = [
        f"different {f.name} (stored {stored.get(f.name)!r}, wanted {getattr(key, f.name)!r})"
        for f in fields(ShardKey)
        if stored.get(f.name) != getattr(key, f.name)
    ]
    rng = key.range(shard_index)
    if (m.get("shard_index"), m.get("start"), m.get("end")) != (shard_index, rng.start, rng.end):
        stored_rng = f"{m.get('start')}:{m.get('end')}"
        diffs.append(f"different range (stored {stored_rng}, wanted {rng.start}:{rng.end})")
    return "; ".join(diffs) or None


def _compare_docids(m: dict, doc_ids: Sequence[str]) -> str | None:
    if m.get("n_rows") != len(doc_ids):
        return f"different docids: {m.get('n_rows')} stored, {len(doc_ids)} expected"
    if m.get("docids_sha256") != docids_sha256(doc_ids):
        return "different docids: same count, different ids or order"
    return None


def check_npy_header(npy: Path, shape: tuple[int, int], dtype: str) -> str | None:
    """None if ``npy`` starts with a C-order header of this shape and dtype, else what is wrong."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    try:
        with open(npy, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version not in readers:
                return f"npy format version {version} not written by this code"
            got_shape, fortran, got_dtype = readers[version](f)
    except ValueError as e:  # numpy raises ValueError for any malformed magic/header
        return f"npy header unreadable: {e}"
    if got_shape != tuple(shape) or fortran or got_dtype != np.dtype(dtype):
        return f"npy header says shape {got_shape} {got_dtype}, expected {tuple(shape)} {dtype}"
    return None


def _file_identity(path: Path) -> dict:
    st = path.stat()
    return {"ino": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns}


def _check_checksum(paths: ShardPaths, m: dict) -> str | None:
    ident = _file_identity(paths.npy)
    stamp = {"npy_sha256": m.get("npy_sha256"), **ident}
    if paths.stamp.exists():
        try:
            if json.loads(paths.stamp.read_text(encoding="utf-8")) == stamp:
                return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            log.info("ignoring unreadable stamp %s (%s); re-hashing", paths.stamp, e)
    if sha256_of(paths.npy) != m.get("npy_sha256"):
        paths.stamp.unlink(missing_ok=True)
        return "checksum mismatch: npy content differs from its manifest"
    youngest_ns = max(ident["mtime_ns"], ident["ctime_ns"])
    if time.time_ns() - youngest_ns > RACY_SECONDS * 1e9:
        atomic_write_json(paths.stamp, stamp)
    return None
