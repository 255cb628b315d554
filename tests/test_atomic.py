"""Atomic writes: all or nothing, files readable as the user's umask says, one clear error on a read-only or full
disk."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from evaluation.atomic import UnwritableError, atomic_write_text, atomic_writer, locked


@pytest.fixture
def umask():
    """Set the process umask for one test (files made with it), restoring the old one after."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_files_get_the_users_umask(tmp_path, umask, mask, mode):
    umask(mask)
    atomic_write_text(tmp_path / "a.json", "{}\n")
    with atomic_writer(tmp_path / "sub" / "b.npy") as f:
        f.write(b"x")
    for path in (tmp_path / "a.json", tmp_path / "sub" / "b.npy"):
        assert stat.S_IMODE(path.stat().st_mode) == mode
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.json", "b.npy", "sub"]  # no temp file left


def test_a_failed_body_leaves_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "r.json"
    atomic_write_text(path, "old")
    with pytest.raises(ValueError), atomic_writer(path) as f:
        f.write(b"half")
        raise ValueError("boom")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_full_disk_and_read_only_folder_name_the_path_and_the_fix(tmp_path, monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(UnwritableError, match=f"^cannot write {tmp_path}/r.json: no space left on the device; free "
                                              f"space there, or set output.dir= / cache.dir="):
        atomic_write_text(tmp_path / "r.json", "x")
    assert not list(tmp_path.iterdir())
    monkeypatch.undo()

    def read_only(path, *args, **kwargs):
        raise PermissionError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(UnwritableError, match=rf"^cannot write {tmp_path}/\.r\.json\.\w+\.tmp: Read-only file system "
                                              rf"\(a read-only folder, or one you may not write\); make that folder"):
        atomic_write_text(tmp_path / "r.json", "x")
    with pytest.raises(UnwritableError, match=r"r\.json\.lock: Read-only file system"), locked(tmp_path / "r.json"):
        pass
