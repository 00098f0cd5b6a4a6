"""core.storage: both backends keep, stream, list and delete files alike; a 20 MB
file is written and read back a chunk at a time; a photo is served with the same
headers by both; a photo or an import stored through one app server is read by
another app server on the same database (the database backend)."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tracemalloc
from datetime import timedelta

import pytest

from community.core import storage, uploads
from community.core.storage import CHUNK_SIZE
from community.core.timeutil import utcnow
from tests.factories.hazards import image_bytes

KIND = "imports"


@pytest.fixture(params=storage.BACKEND_NAMES)
def backend(request, app, app_ctx, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_BACKEND", request.param)
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    return request.param


def _read(key: str) -> bytes:
    with storage.open_file(KIND, key) as f:
        return f.read()


def test_a_file_is_saved_read_listed_and_deleted(backend):
    data = bytes(range(256)) * (2 * CHUNK_SIZE // 256) + b"tail"
    assert storage.save(KIND, "a.bin", io.BytesIO(data)) == len(data)
    assert storage.stat(KIND, "a.bin").size == len(data) and storage.exists(KIND, "a.bin")
    assert _read("a.bin") == data
    with storage.open_file(KIND, "a.bin") as f:
        f.seek(CHUNK_SIZE - 5)
        assert f.read(10) == data[CHUNK_SIZE - 5 : CHUNK_SIZE + 5]
        f.seek(-3, io.SEEK_END)
        assert f.read() == b"ail" and f.tell() == len(data)
    storage.save(KIND, "a.bin", b"new")  # replaces
    assert _read("a.bin") == b"new" and storage.keys(KIND) == ["a.bin"]
    assert storage.delete_file(KIND, "a.bin") and not storage.exists(KIND, "a.bin")
    assert not storage.delete_file(KIND, "a.bin") and storage.keys(KIND) == []
    with pytest.raises(FileNotFoundError):
        storage.open_file(KIND, "a.bin")


def test_appends_fill_the_last_chunk_then_add_chunks(backend):
    pieces = [b"a" * 10, b"b" * (CHUNK_SIZE - 20), b"c" * 25, b"d" * (2 * CHUNK_SIZE + 1), b""]
    for piece in pieces:
        storage.append(KIND, "log.csv", piece)
    assert _read("log.csv") == b"".join(pieces)
    assert storage.stat(KIND, "log.csv").size == sum(map(len, pieces))


def test_a_failed_write_leaves_no_file(backend):
    with pytest.raises(RuntimeError), storage.create(KIND, "half.csv") as out:
        out.write(b"x" * (CHUNK_SIZE + 1))
        raise RuntimeError("reading the upload failed")
    assert not storage.exists(KIND, "half.csv") and storage.keys(KIND) == []


@pytest.mark.parametrize("key", ["../x", ".hidden", "a/b", "", "x" * 129, "a b"])
def test_keys_are_plain_names(backend, key):
    with pytest.raises(ValueError):
        storage.save(KIND, key, b"x")


def test_older_than_lists_by_last_write(backend):
    storage.save(KIND, "old", b"1")
    storage.save(KIND, "new", b"2")
    storage.set_modified(KIND, "old", utcnow() - timedelta(hours=2))
    assert storage.older_than(KIND, utcnow() - timedelta(hours=1)) == ["old"]
    storage.append(KIND, "old", b"more")  # written again: no longer old
    assert storage.older_than(KIND, utcnow() - timedelta(hours=1)) == []


class _Pattern(io.RawIOBase):
    """`size` bytes of a repeating pattern, made as they are read."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size
        self.pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.size - self.pos)
        offset = self.pos % 251
        buffer[:n] = (bytes(range(251)) * (n // 251 + 2))[offset : offset + n]
        self.pos += n
        return n


def _digest(stream) -> str:
    digest = hashlib.sha256()
    while piece := stream.read(64 * 1024):
        digest.update(piece)
    return digest.hexdigest()


def test_a_20_mb_file_is_written_and_read_a_chunk_at_a_time(backend):
    size = 20 * 1024 * 1024
    expected = _digest(io.BufferedReader(_Pattern(size)))
    tracemalloc.start()
    try:
        assert storage.save(KIND, "big.upload", io.BufferedReader(_Pattern(size))) == size
        with storage.open_file(KIND, "big.upload") as f:
            assert _digest(f) == expected
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A few chunks at most (256 KiB each), never the file (20 MB).
    assert peak < 3 * 1024 * 1024, peak


def test_copy_files_moves_every_file_between_backends(app, app_ctx, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    local, database = storage.BACKENDS["local"], storage.BACKENDS["database"]
    with local.create(KIND, "x.upload") as out:
        out.write(b"x" * (CHUNK_SIZE + 7))
    with local.create("photos", "p.jpg") as out:
        out.write(b"jpeg")
    when = (utcnow() - timedelta(days=3)).replace(microsecond=0)
    local.set_modified(KIND, "x.upload", when)
    assert storage.copy_files(local, database) == 2
    assert [(f.kind, f.key, f.size) for f in storage.all_files(database)] == [
        (KIND, "x.upload", CHUNK_SIZE + 7),
        ("photos", "p.jpg", 4),
    ]
    assert database.stat(KIND, "x.upload").modified == when
    with database.open("photos", "p.jpg") as f:
        assert f.read() == b"jpeg"


def test_a_photo_is_served_alike_by_both_backends(app, backend):
    with app.test_request_context("/"):
        name = uploads.store(uploads.clean_image(io.BytesIO(image_bytes("JPEG"))))
        resp = uploads.send(name)
        resp.direct_passthrough = False
        body = resp.get_data()
        resp.close()
    assert body[:2] == b"\xff\xd8" and resp.status_code == 200
    assert resp.headers["Content-Type"] == "image/jpeg"
    assert int(resp.headers["Content-Length"]) == len(body)
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Accept-Ranges"] == "bytes" and resp.headers["Last-Modified"]
    etag = resp.headers["ETag"]
    with app.test_request_context("/", headers={"If-None-Match": etag}):
        unchanged = uploads.send(name)
        unchanged.close()
        assert unchanged.status_code == 304
    with app.test_request_context("/", headers={"Range": "bytes=0-9"}):
        part = uploads.send(name)
        part.direct_passthrough = False
        assert (part.status_code, part.get_data()) == (206, body[:10])
        part.close()
    uploads.remove(name)
    with app.test_request_context("/"), pytest.raises(Exception) as missing:
        uploads.send(name)
    assert getattr(missing.value, "code", None) == 404


def _config_in_a_process(value: str) -> subprocess.CompletedProcess:
    code = "from community.config import Config; print(Config.STORAGE_BACKEND)"
    env = {**os.environ, "STORAGE_BACKEND": value}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )


def test_storage_backend_is_read_from_the_environment_and_checked():
    assert _config_in_a_process("Database").stdout.strip() == "database"
    assert _config_in_a_process("").stdout.strip() == "local"
    refused = _config_in_a_process("s3")
    assert refused.returncode != 0
    assert "STORAGE_BACKEND must be one of local, database, got 's3'" in refused.stderr
