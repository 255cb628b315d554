"""Crash-safe file writes and cross-process locks, shared by every module that writes files.

A reader must never see half a file: a worker killed by Slurm (preemption, OOM, time limit) leaves either the
old file or the new one. So every write goes to a temporary file in the SAME directory (``os.replace`` is only
atomic within one filesystem), is fsynced, then renamed over the target; the directory is fsynced too so the
rename itself survives a power loss.

``locked(path)`` serialises writers of one file across processes and hosts ("two workers never write the same
file"). It uses ``filelock.FileLock`` (``fcntl``/``flock``), which works on local disks and on shared
filesystems with POSIX locks (Lustre, GPFS, NFSv4 with lockd); cache.dir must be on such a filesystem.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from filelock import FileLock


def _fsync_dir(directory: Path) -> None:
    """Persist a rename: without this a power loss can undo the ``os.replace`` on ext4/xfs."""
    if os.name != "posix":  # Windows cannot open a directory; its rename is durable enough
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_writer(path: str | Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO[Any]]:
    """Yield a file object whose content replaces ``path`` only if the ``with`` body finishes.

    Large writers (``np.save`` of a multi-GB shard) stream into it instead of building bytes in memory.
    On an exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        # Any failure (also KeyboardInterrupt) must not leave the temp file behind; the error propagates.
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    # Encoded by hand (no text-mode newline translation): "\n" stays "\n" on every OS, so checksums agree.
    with atomic_writer(path, "wb") as f:
        f.write(text.encode(encoding))


def atomic_write_json(path: str | Path, obj: Any, indent: int | None = 2) -> None:
    """Write JSON (UTF-8, non-ASCII kept, trailing newline) atomically."""
    atomic_write_text(path, json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")


def lock_path(path: str | Path) -> Path:
    """The lock file guarding ``path`` (a sibling named ``<name>.lock``)."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


def locked(path: str | Path, timeout: float = -1) -> FileLock:
    """A cross-process lock for ``path``; use as ``with locked(p): ...``.

    ``timeout=-1`` waits forever (a writer holds it for seconds at most); the lock is re-entrant within one
    process object, and released when the holder dies (``FileLock``), so a killed worker never blocks others.
    """
    lp = lock_path(path)
    lp.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(lp), timeout=timeout)
