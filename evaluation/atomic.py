"""Crash-safe file writes and cross-process locks, shared by every module that writes files.

A reader must never see half a file: a worker killed by Slurm (preemption, OOM, time limit) leaves either the
old file or the new one. So every write goes to a temporary file in the SAME directory (``os.replace`` is only
atomic within one filesystem), is fsynced, then renamed over the target; the directory is fsynced too so the
rename itself survives a power loss.

``locked(path)`` serialises writers of one file across processes and hosts ("two workers never write the same
file"). It uses ``filelock.FileLock`` (``fcntl``/``flock``), which works on local disks and on shared
filesystems with POSIX locks (Lustre, GPFS, NFSv4 with lockd); cache.dir must be on such a filesystem.

Files are created with the user's umask (0644 under umask 022, 0664 under 002), like any other program's: a shared
results folder on a cluster stays readable by the group. (``tempfile.mkstemp`` would make every file 0600.)

A folder that cannot be written (read-only, not yours, a file in its place) or a full disk raises
``UnwritableError`` naming the path and the fix, for the files written here and the locks taken here.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from filelock import FileLock

from evaluation.errors import Me5EvalError

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}


class UnwritableError(Me5EvalError):
    """A file could not be written: a read-only folder, one the user may not write, or a full disk."""


def unwritable_error(path: str | Path, err: OSError) -> UnwritableError | None:
    """The one-line error for ``err`` raised while writing ``path``; None when it is another fault."""
    where = err.filename or path
    if err.errno in _NO_SPACE:
        return UnwritableError(
            f"cannot write {where}: no space left on the device; free space there, or set output.dir= / cache.dir= "
            f"(whichever holds it) to a disk with room. Everything written before is kept: rerun to resume")
    if err.errno in _NOT_WRITABLE:
        return UnwritableError(
            f"cannot write {where}: {err.strerror} (a read-only folder, or one you may not write); make that folder "
            f"writable, or set output.dir= / cache.dir= (whichever holds it) to a folder you can write")
    if err.errno == errno.EISDIR:
        return UnwritableError(f"cannot write {where}: it is a folder; give the path of a file (or move the folder)")
    if err.errno in (errno.ENOTDIR, errno.EEXIST):  # mkdir where a file is, or a path through a file
        return UnwritableError(
            f"cannot write {path}: {where} is a file where a folder is needed; move it away, or set output.dir= / "
            f"cache.dir= (whichever holds it) to a folder")
    return None


@contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn a read-only-folder or full-disk OSError raised inside the block into an UnwritableError."""
    try:
        yield
    except OSError as e:
        if (error := unwritable_error(path, e)) is None:
            raise
        raise error from e


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
    On an exception the temporary file is removed and ``path`` is left untouched. The folder, the temporary file,
    the flush and the rename raise UnwritableError when the disk is read-only or full; an error of the body (the
    caller's own writes) propagates as it is, for the caller to say what it was writing (``writing(path)`` does
    the same translation).
    """
    path = Path(path)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
            with writing(path):
                f.flush()
                os.fsync(f.fileno())
        with writing(path):
            os.replace(tmp, path)
    except BaseException:
        # Any failure (also KeyboardInterrupt) must not leave the temp file behind; the error propagates.
        tmp.unlink(missing_ok=True)
        raise
    with writing(path):
        _fsync_dir(path.parent)


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new hidden file next to ``path``, mode 0666 minus the umask (the kernel applies it at creation)."""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue  # another writer's temp file: draw another name


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_writer(path, "wb") as f, writing(path):
        f.write(data)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    # Encoded by hand (no text-mode newline translation): "\n" stays "\n" on every OS, so checksums agree.
    atomic_write_bytes(path, text.encode(encoding))


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
    A lock that cannot be created (read-only folder, full disk) raises UnwritableError.
    """
    lp = lock_path(path)
    with writing(lp):
        lp.parent.mkdir(parents=True, exist_ok=True)
    return _Lock(str(lp), timeout=timeout)


class _Lock(FileLock):
    def acquire(self, *args: Any, **kwargs: Any) -> Any:
        with writing(self.lock_file):
            return super().acquire(*args, **kwargs)
