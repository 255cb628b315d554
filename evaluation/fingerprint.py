"""Exact file fingerprints that are cheap on reruns: the full sha256 of a file, remembered per file state.

A retrained checkpoint can differ from the old one anywhere (fine-tuning moves every weight; a merge or a partial
restore may change only some tensors in the middle of the file), so a model or data fingerprint hashes every byte.
Hashing a few GB on every run would cost minutes, so the digest is remembered per (absolute path, size, mtime_ns,
ctime_ns, inode): a file rewritten in place changes its mtime/ctime, a file replaced by another gets a new inode,
and either is hashed again. ``ctime`` cannot be set from user space, so copying old timestamps back (``cp -p``,
``rsync -a``, ``touch -d``) does not hide a change.

The digests live in memory for the process and, when a memo folder is given (the run's ``cache.dir``), in
``<memo_dir>/sha256-memo.json`` (written atomically under a lock), so the next run does not hash the weights again.
A memo that is not readable JSON is only a lost speed-up: a warning, and it is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from evaluation.atomic import atomic_write_json, locked

log = logging.getLogger(__name__)

MEMO_FILE = "sha256-memo.json"
_HASH_BLOCK = 8 << 20
_MEMORY: dict[str, tuple[tuple[int, ...], str]] = {}  # absolute path -> (file state, sha256), for this process


def _state(path: Path) -> tuple[int, ...]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def sha256_of(path: Path) -> str:
    """The full sha256 of a file (hex), read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_HASH_BLOCK):
            h.update(block)
    return h.hexdigest()


def file_sha256(path: str | Path, memo_dir: str | Path | None = None) -> str:
    """The full sha256 of ``path``, hashed only when the file's state differs from the remembered one."""
    path = Path(path).resolve()
    key, state = str(path), _state(path)
    hit = _MEMORY.get(key)
    if hit is not None and hit[0] == state:
        return hit[1]
    memo = Path(memo_dir) / MEMO_FILE if memo_dir is not None else None
    if memo is not None:
        stored = _read_memo(memo).get(key)
        if isinstance(stored, dict) and tuple(stored.get("state", ())) == state and stored.get("sha256"):
            _MEMORY[key] = (state, stored["sha256"])
            return stored["sha256"]
    digest = sha256_of(path)
    if _state(path) != state:  # written to while we read it: the digest matches no state; do not remember it
        return digest
    _MEMORY[key] = (state, digest)
    if memo is not None:
        _remember(memo, key, state, digest)
    return digest


def _read_memo(memo: Path) -> dict:
    if not memo.is_file():
        return {}
    try:
        obj = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        log.warning("sha256 memo %s is unreadable (%s); rebuilding it (files are hashed again once)", memo, e)
        return {}
    return obj if isinstance(obj, dict) else {}


def _remember(memo: Path, key: str, state: tuple[int, ...], digest: str) -> None:
    with locked(memo):
        entries = _read_memo(memo)
        entries = {k: v for k, v in entries.items() if k == key or os.path.exists(k)}  # forget deleted files
        entries[key] = {"state": list(state), "sha256": digest}
        atomic_write_json(memo, entries, indent=None)


def files_sha256(root: Path, files: list[Path], memo_dir: str | Path | None = None) -> str:
    """One sha256 over several files: their paths relative to ``root`` and full digests, in path order."""
    digest = hashlib.sha256()
    for file in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        digest.update(f"{file.relative_to(root).as_posix()}\0{file_sha256(file, memo_dir)}\n".encode())
    return digest.hexdigest()
