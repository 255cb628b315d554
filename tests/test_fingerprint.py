"""File fingerprints: the full sha256 (checked against hashlib over the bytes), remembered per file state."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from evaluation import fingerprint
from evaluation.fingerprint import MEMO_FILE, file_sha256, files_sha256


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch):
    monkeypatch.setattr(fingerprint, "_MEMORY", {})


@pytest.fixture
def hashed(monkeypatch):
    """The paths that were actually read and hashed."""
    calls, real = [], fingerprint.sha256_of
    monkeypatch.setattr(fingerprint, "sha256_of", lambda p: calls.append(p) or real(p))
    return calls


def test_the_digest_is_the_full_sha256(tmp_path):
    data = os.urandom(3 << 20) + b"tail"
    (tmp_path / "w.bin").write_bytes(data)
    assert file_sha256(tmp_path / "w.bin") == hashlib.sha256(data).hexdigest()


def test_an_unchanged_file_is_not_hashed_again_across_processes(tmp_path, hashed, monkeypatch):
    f, memo = tmp_path / "w.bin", tmp_path / "cache"
    f.write_bytes(b"a" * 1000)
    first = file_sha256(f, memo)
    monkeypatch.setattr(fingerprint, "_MEMORY", {})  # a new process: only the memo file remembers
    assert file_sha256(f, memo) == first and len(hashed) == 1
    assert str(f.resolve()) in json.loads((memo / MEMO_FILE).read_text())


def test_a_change_of_content_size_or_mtime_is_hashed_again(tmp_path, hashed, monkeypatch):
    f, memo = tmp_path / "w.bin", tmp_path / "cache"
    f.write_bytes(b"a" * 1000)
    st = f.stat()
    before = file_sha256(f, memo)
    with f.open("r+b") as h:  # same size, one byte in the middle
        h.seek(500)
        h.write(b"b")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the old mtime put back (ctime moved)
    monkeypatch.setattr(fingerprint, "_MEMORY", {})
    changed = file_sha256(f, memo)
    assert changed == hashlib.sha256(b"a" * 500 + b"b" + b"a" * 499).hexdigest() != before
    f.write_bytes(b"a" * 1001)  # another size
    assert file_sha256(f, memo) == hashlib.sha256(b"a" * 1001).hexdigest()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched: hashed again, same digest
    assert file_sha256(f, memo) == hashlib.sha256(b"a" * 1001).hexdigest()
    assert len(hashed) == 4


def test_an_unreadable_memo_is_rebuilt(tmp_path, caplog):
    f, memo = tmp_path / "w.bin", tmp_path / "cache"
    f.write_bytes(b"x")
    memo.mkdir()
    (memo / MEMO_FILE).write_text("{not json")
    assert file_sha256(f, memo) == hashlib.sha256(b"x").hexdigest()
    assert "unreadable" in caplog.text
    assert json.loads((memo / MEMO_FILE).read_text())[str(f.resolve())]["sha256"] == hashlib.sha256(b"x").hexdigest()


def test_files_sha256_covers_names_and_contents(tmp_path):
    (tmp_path / "a").write_bytes(b"1")
    (tmp_path / "b").write_bytes(b"2")
    both = files_sha256(tmp_path, [tmp_path / "b", tmp_path / "a"])
    expected = hashlib.sha256(
        f"a\0{hashlib.sha256(b'1').hexdigest()}\nb\0{hashlib.sha256(b'2').hexdigest()}\n".encode()).hexdigest()
    assert both == expected
    (tmp_path / "a").rename(tmp_path / "c")
    assert files_sha256(tmp_path, [tmp_path / "b", tmp_path / "c"]) != both
