"""Stored files (hazard photos, import files) behind one interface, kept in a local
directory or in the database: STORAGE_BACKEND.

`local` (the default): each kind of file has its own directory on this machine
(photos: UPLOAD_DIR, imports: IMPORT_DIR), one file per key, written to a temporary
file and renamed into place. The names recorded before this module are the keys, so
they keep working. Only the machine holding the directory sees the files: with
several app servers, share the directories (NFS) or use `database`.

`database`: a file is a row of `stored_file` (kind, key, size, when last written) and
its bytes are rows of `stored_file_chunk` of CHUNK_SIZE bytes each (the last one
shorter). Every app server and worker using the database sees every file, with
nothing more to run. Files are written and read a chunk at a time (a 20 MB import
is never held whole in Python) through the request's session: a file is committed
or rolled back with the rows naming it. On SQLite a write holds the database's
write lock like any other write; the backend is meant for PostgreSQL.

Keys are plain names (letters, digits, `_`, `-`, `.`; never a leading dot or a
slash), chosen by the caller, unique per kind. Kinds are declared by the module
owning them (define_kind), with the setting naming their local directory.

For backups and for moving from one backend to the other: all_files() lists every
stored file of a backend, open() reads it, save() writes it (keeping its time with
`modified`), copy_files() does both between two backends.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

from flask import current_app, request, send_from_directory, stream_with_context
from sqlalchemy import delete, select, update
from werkzeug.exceptions import NotFound

from community.core.models import StoredFile, StoredFileChunk
from community.core.timeutil import utcnow
from community.extensions import db

# 256 KiB: few rows for a 20 MB file (80), little memory per read or write.
CHUNK_SIZE = 256 * 1024
BACKEND_NAMES = ("local", "database")
KEY_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$")
# kind -> (setting naming its local directory, folder under the instance folder
# when that setting is empty)
_KINDS: dict[str, tuple[str, str]] = {}


def define_kind(kind: str, setting: str, default_folder: str) -> None:
    """Declare a kind of stored file and where the local backend keeps it."""
    _KINDS[kind] = (setting, default_folder)


def kinds() -> list[str]:
    return sorted(_KINDS)


def is_key(key: str | None) -> bool:
    return bool(key) and bool(KEY_RE.match(key))


def _check(kind: str, key: str) -> None:
    if kind not in _KINDS:
        raise ValueError(f"unknown kind of stored file: {kind!r}")
    if not is_key(key):
        raise ValueError(f"not a storage key: {key!r}")


@dataclass(frozen=True)
class Stored:
    """A stored file: `modified` is when it was last written (naive UTC)."""

    kind: str
    key: str
    size: int
    modified: datetime


class Backend(Protocol):
    name: str

    def create(self, kind: str, key: str, modified: datetime | None = None): ...
    def append(self, kind: str, key: str, data: bytes) -> None: ...
    def open(self, kind: str, key: str) -> IO[bytes]: ...
    def stat(self, kind: str, key: str) -> Stored | None: ...
    def delete(self, kind: str, key: str) -> bool: ...
    def older_than(self, kind: str, cutoff: datetime) -> list[str]: ...
    def keys(self, kind: str) -> list[str]: ...
    def set_modified(self, kind: str, key: str, when: datetime) -> None: ...
    def send(self, kind: str, key: str, mimetype: str): ...


def _copy(source: bytes | IO[bytes], out: IO[bytes]) -> None:
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source)
        for start in range(0, len(view), CHUNK_SIZE):
            out.write(view[start : start + CHUNK_SIZE])
    else:
        shutil.copyfileobj(source, out, CHUNK_SIZE)


def _timestamp(when: datetime) -> float:
    return when.replace(tzinfo=UTC).timestamp()


class LocalBackend:
    """Files in a directory per kind on this machine."""

    name = "local"

    def folder(self, kind: str) -> Path:
        setting, default = _KINDS[kind]
        return Path(current_app.config.get(setting) or Path(current_app.instance_path) / default)

    def _path(self, kind: str, key: str) -> Path:
        _check(kind, key)
        return self.folder(kind) / key

    @contextmanager
    def create(self, kind: str, key: str, modified: datetime | None = None):
        target = self._path(kind, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".store-")
        try:
            with os.fdopen(fd, "wb") as out:
                yield out
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if modified is not None:
            self.set_modified(kind, key, modified)

    def append(self, kind: str, key: str, data: bytes) -> None:
        path = self._path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as out:
            out.write(data)

    def open(self, kind: str, key: str) -> IO[bytes]:
        return self._path(kind, key).open("rb")

    def stat(self, kind: str, key: str) -> Stored | None:
        try:
            st = self._path(kind, key).stat()
        except FileNotFoundError:
            return None
        modified = datetime.fromtimestamp(st.st_mtime, UTC).replace(tzinfo=None)
        return Stored(kind, key, st.st_size, modified)

    def delete(self, kind: str, key: str) -> bool:
        try:
            self._path(kind, key).unlink()
        except FileNotFoundError:
            return False
        return True

    def _entries(self, kind: str) -> Iterator[os.DirEntry]:
        try:
            entries = list(os.scandir(self.folder(kind)))
        except FileNotFoundError:
            return
        for entry in entries:
            if is_key(entry.name) and entry.is_file():
                yield entry

    def older_than(self, kind: str, cutoff: datetime) -> list[str]:
        limit = _timestamp(cutoff)
        return sorted(e.name for e in self._entries(kind) if e.stat().st_mtime < limit)

    def keys(self, kind: str) -> list[str]:
        return sorted(e.name for e in self._entries(kind))

    def set_modified(self, kind: str, key: str, when: datetime) -> None:
        stamp = _timestamp(when)
        os.utime(self._path(kind, key), (stamp, stamp))

    def send(self, kind: str, key: str, mimetype: str):
        _check(kind, key)
        return send_from_directory(
            self.folder(kind), key, mimetype=mimetype, max_age=0, conditional=True
        )


_FILE = StoredFile.__table__
_CHUNK = StoredFileChunk.__table__


class _ChunkWriter(io.RawIOBase):
    """Writes a stored file's chunks as they fill (DatabaseBackend.create)."""

    def __init__(self, file_id: int):
        super().__init__()
        self._id = file_id
        self._buffer = bytearray()
        self._seq = 0
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._buffer += data
        self.size += len(data)
        while len(self._buffer) >= CHUNK_SIZE:
            self._put(bytes(self._buffer[:CHUNK_SIZE]))
            del self._buffer[:CHUNK_SIZE]
        return len(data)

    def _put(self, data: bytes) -> None:
        db.session.execute(_CHUNK.insert().values(file_id=self._id, seq=self._seq, data=data))
        self._seq += 1

    def finish(self) -> None:
        if self._buffer:
            self._put(bytes(self._buffer))
            self._buffer.clear()


class _ChunkReader(io.RawIOBase):
    """Reads a stored file a chunk at a time, one chunk held (DatabaseBackend.open);
    seekable, as zipfile needs for an xlsx."""

    def __init__(self, file_id: int, size: int, name: str):
        super().__init__()
        self._id = file_id
        self._size = size
        self._pos = 0
        self._seq = -1
        self._data = b""
        self.name = name

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._pos >= self._size:
            return 0
        seq, offset = divmod(self._pos, CHUNK_SIZE)
        if seq != self._seq:
            data = db.session.execute(
                select(_CHUNK.c.data).where(_CHUNK.c.file_id == self._id, _CHUNK.c.seq == seq)
            ).scalar()
            if data is None:
                raise FileNotFoundError(self.name)  # deleted while being read
            self._seq, self._data = seq, bytes(data)
        piece = memoryview(self._data)[offset : offset + len(buffer)]
        buffer[: len(piece)] = piece
        self._pos += len(piece)
        return len(piece)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos


class DatabaseBackend:
    """Files in the tables stored_file and stored_file_chunk, through db.session."""

    name = "database"

    def _row(self, kind: str, key: str):
        _check(kind, key)
        return db.session.execute(
            select(_FILE.c.id, _FILE.c.size, _FILE.c.updated_at).where(
                _FILE.c.kind == kind, _FILE.c.key == key
            )
        ).first()

    @contextmanager
    def create(self, kind: str, key: str, modified: datetime | None = None):
        self.delete(kind, key)
        now = modified or utcnow()
        file_id = db.session.execute(
            _FILE.insert()
            .values(kind=kind, key=key, size=0, created_at=now, updated_at=now)
            .returning(_FILE.c.id)
        ).scalar_one()
        out = _ChunkWriter(file_id)
        try:
            yield out
            out.finish()
        except BaseException:
            if db.session.is_active:
                self._drop(file_id)
            raise
        db.session.execute(update(_FILE).where(_FILE.c.id == file_id).values(size=out.size))

    def append(self, kind: str, key: str, data: bytes) -> None:
        row = self._row(kind, key)
        if row is None:
            with self.create(kind, key) as out:
                out.write(data)
            return
        seq, filled = divmod(row.size, CHUNK_SIZE)
        start = 0
        if filled:
            start = CHUNK_SIZE - filled
            old = db.session.execute(
                select(_CHUNK.c.data).where(_CHUNK.c.file_id == row.id, _CHUNK.c.seq == seq)
            ).scalar_one()
            db.session.execute(
                update(_CHUNK)
                .where(_CHUNK.c.file_id == row.id, _CHUNK.c.seq == seq)
                .values(data=bytes(old) + data[:start])
            )
            seq += 1
        for offset in range(start, len(data), CHUNK_SIZE):
            db.session.execute(
                _CHUNK.insert().values(
                    file_id=row.id, seq=seq, data=data[offset : offset + CHUNK_SIZE]
                )
            )
            seq += 1
        db.session.execute(
            update(_FILE)
            .where(_FILE.c.id == row.id)
            .values(size=row.size + len(data), updated_at=utcnow())
        )

    def open(self, kind: str, key: str) -> IO[bytes]:
        row = self._row(kind, key)
        if row is None:
            raise FileNotFoundError(f"{kind}/{key}")
        return io.BufferedReader(_ChunkReader(row.id, row.size, key), buffer_size=64 * 1024)

    def stat(self, kind: str, key: str) -> Stored | None:
        row = self._row(kind, key)
        return Stored(kind, key, row.size, row.updated_at) if row is not None else None

    def _drop(self, file_id: int) -> None:
        # Chunks first: SQLite enforces no foreign key unless told to.
        db.session.execute(delete(_CHUNK).where(_CHUNK.c.file_id == file_id))
        db.session.execute(delete(_FILE).where(_FILE.c.id == file_id))

    def delete(self, kind: str, key: str) -> bool:
        if not db.session.is_active:
            # A failed flush: the rollback to come takes the file with it.
            return False
        row = self._row(kind, key)
        if row is None:
            return False
        self._drop(row.id)
        return True

    def older_than(self, kind: str, cutoff: datetime) -> list[str]:
        return list(
            db.session.scalars(
                select(_FILE.c.key)
                .where(_FILE.c.kind == kind, _FILE.c.updated_at < cutoff)
                .order_by(_FILE.c.key)
            )
        )

    def keys(self, kind: str) -> list[str]:
        return list(
            db.session.scalars(
                select(_FILE.c.key).where(_FILE.c.kind == kind).order_by(_FILE.c.key)
            )
        )

    def set_modified(self, kind: str, key: str, when: datetime) -> None:
        _check(kind, key)
        db.session.execute(
            update(_FILE).where(_FILE.c.kind == kind, _FILE.c.key == key).values(updated_at=when)
        )

    def send(self, kind: str, key: str, mimetype: str):
        """The file streamed a chunk at a time, with the headers send_from_directory
        gives (length, Last-Modified, ETag, ranges, 304 when unchanged)."""
        info = self.stat(kind, key)
        if info is None:
            raise NotFound()

        def body() -> Iterator[bytes]:
            with self.open(kind, key) as f:
                while piece := f.read(CHUNK_SIZE):
                    yield piece

        resp = current_app.response_class(
            stream_with_context(body()), mimetype=mimetype, direct_passthrough=True
        )
        resp.content_length = info.size
        resp.last_modified = info.modified.replace(tzinfo=UTC)
        resp.set_etag(f"{kind}-{key}-{info.size}-{_timestamp(info.modified):.0f}")
        return resp.make_conditional(request, accept_ranges=True, complete_length=info.size)


BACKENDS: dict[str, Backend] = {"local": LocalBackend(), "database": DatabaseBackend()}


def backend(name: str | None = None) -> Backend:
    """The backend `name`, or the one STORAGE_BACKEND names (local by default)."""
    chosen = name or current_app.config.get("STORAGE_BACKEND") or "local"
    try:
        return BACKENDS[chosen]
    except KeyError:
        raise RuntimeError(
            f"STORAGE_BACKEND must be one of {', '.join(BACKEND_NAMES)}, got {chosen!r}"
        ) from None


# The interface, on the configured backend.


def save(
    kind: str, key: str, source: bytes | IO[bytes], *, modified: datetime | None = None
) -> int:
    """Store `source` (bytes, or a binary stream read a chunk at a time) under `key`,
    replacing a file of that key; returns its size."""
    with backend().create(kind, key, modified) as out:
        _copy(source, out)
    return stat(kind, key).size  # type: ignore[union-attr]


@contextmanager
def create(kind: str, key: str):
    """A binary stream writing the file `key` (replacing one of that key): the file
    exists once the block ends, and not at all when it raises."""
    with backend().create(kind, key) as out:
        yield out


def append(kind: str, key: str, data: bytes) -> None:
    """Add `data` at the end of the file `key` (created if missing)."""
    backend().append(kind, key, data)


def open_file(kind: str, key: str) -> IO[bytes]:
    """The file `key` as a seekable binary stream (FileNotFoundError when missing)."""
    return backend().open(kind, key)


def stat(kind: str, key: str) -> Stored | None:
    return backend().stat(kind, key)


def exists(kind: str, key: str) -> bool:
    return stat(kind, key) is not None


def delete_file(kind: str, key: str) -> bool:
    """Delete the file `key`; False when there was none."""
    return backend().delete(kind, key)


def older_than(kind: str, cutoff: datetime) -> list[str]:
    """The keys of the files of `kind` last written before `cutoff` (naive UTC)."""
    return backend().older_than(kind, cutoff)


def keys(kind: str) -> list[str]:
    return backend().keys(kind)


def set_modified(kind: str, key: str, when: datetime) -> None:
    backend().set_modified(kind, key, when)


def send(kind: str, key: str, mimetype: str):
    """A response with the file (NotFound when missing); the caller checks access
    and sets the caching headers."""
    return backend().send(kind, key, mimetype)


def all_files(source: Backend | None = None) -> Iterator[Stored]:
    """Every stored file of every kind in `source` (the configured backend by default):
    what a backup must carry besides the database. Read each with
    `source.open(f.kind, f.key)`."""
    source = source or backend()
    for kind in kinds():
        for key in source.keys(kind):
            info = source.stat(kind, key)
            if info is not None:
                yield info


def copy_files(source: Backend, target: Backend) -> int:
    """Copy every file of `source` into `target` (same kinds, keys and times),
    streamed; returns how many. For restoring a backup or switching backends; the
    caller commits when `target` is the database."""
    copied = 0
    for info in all_files(source):
        with (
            source.open(info.kind, info.key) as f,
            target.create(info.kind, info.key, info.modified) as out,
        ):
            _copy(f, out)
        copied += 1
    return copied
