"""Test databases: the main one (SQLite file or TEST_DATABASE_URL) and scratch copies."""

from __future__ import annotations

import os
import tempfile

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

_TMP = tempfile.mkdtemp(prefix="community-test-")


def main_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_TMP}/main.db"


def is_postgres() -> bool:
    return make_url(main_url()).get_backend_name() == "postgresql"


def scratch_url(name: str) -> str:
    """An empty database of the same kind as the main one, named after `name`."""
    url = make_url(main_url())
    if url.get_backend_name() == "sqlite":
        path = os.path.join(_TMP, f"{name}.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        return f"sqlite:///{path}"
    db_name = f"{url.database}_{name}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    admin.dispose()
    return url.set(database=db_name).render_as_string(hide_password=False)


def reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def drop_scratch(url: str) -> None:
    """Remove a scratch database made by scratch_url (its SQLite file with the WAL
    and shared-memory files, or the PostgreSQL database, closing its connections)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(parsed.database + suffix):
                os.remove(parsed.database + suffix)
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def statements_sent(session, call, keep=lambda statement: True) -> list[tuple]:
    """(statement, parameters) of every statement `call()` sent through the session's
    engine that `keep(statement)` accepts: the query plan and query budget tests."""
    from sqlalchemy import event

    sent = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if keep(statement):
            sent.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", before)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return sent
