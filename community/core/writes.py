"""Whether a step changed rows, so that `core.htmx.submit()` rolls back a refused step
that wrote (a conditional UPDATE that took a place before a later check refused)
and leaves alone one that only read: its page then renders from what the view
loaded, with no lazy load of an expired relationship.

Rows changed inside a savepoint that was rolled back (a service's own
`begin_nested()`) do not count: they are already undone.

And the data version (below): a token every writing transaction replaces.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import Select, event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, scoped_session

from community.core.models import DataVersion

# A textual statement that writes (compiled ones say so themselves).
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class RowChanges:
    """`with RowChanges(session) as changes: step()` counts the rows that INSERT,
    UPDATE and DELETE statements changed on the session's connection meanwhile;
    `changes.any` is True when some are still in the transaction. A failed flush
    leaves the session needing a rollback, which `needs_rollback` also says."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._count = 0
        self._marks: list[int] = []
        self._conn: Any = None

    @property
    def any(self) -> bool:
        return self._count > 0

    @property
    def needs_rollback(self) -> bool:
        return self.any or not self._session.is_active

    def _executed(self, conn, cursor, statement, parameters, context, executemany) -> None:
        compiled = context is not None and (
            context.isinsert or context.isupdate or context.isdelete
        )
        if compiled or _WRITE.match(statement):
            # -1 (unknown, e.g. some bulk INSERTs) counts as a change.
            self._count += 1 if cursor.rowcount != 0 else 0

    def _savepoint(self, conn, name) -> None:
        self._marks.append(self._count)

    def _released(self, conn, name, context) -> None:
        if self._marks:
            self._marks.pop()

    def _rolled_back_to(self, conn, name, context) -> None:
        self._count = self._marks.pop() if self._marks else 0

    _LISTENERS = (
        ("after_cursor_execute", "_executed"),
        ("savepoint", "_savepoint"),
        ("release_savepoint", "_released"),
        ("rollback_savepoint", "_rolled_back_to"),
    )

    def __enter__(self) -> RowChanges:
        self._conn = self._session.connection()
        for name, method in self._LISTENERS:
            event.listen(self._conn, name, getattr(self, method))
        return self

    def __exit__(self, *exc: object) -> None:
        for name, method in self._LISTENERS:
            event.remove(self._conn, name, getattr(self, method))


# --- the data version --------------------------------------------------------
#
# The data version: one token in the database (table data_version) that every
# transaction which writes replaces with a new random number as it commits, so what
# is computed from the data can be kept per process under the token it was computed
# at and served only while the token is unchanged (core.nav keeps each user's
# navigation this way). Every process and host reads the same row, so a write made
# by one worker ends the others' copies too.
#
# Which transactions write is seen on the connection (every INSERT, UPDATE, DELETE
# sent through SQLAlchemy, the ORM's and Core's and text alike); the token is
# replaced at the session's commit (in the tests: the SAVEPOINT release that stands
# for it) and, for work on a bare connection, at the connection's commit. Random,
# not a counter: a rolled-back transaction's token is never issued again, so nothing
# computed inside it can match a later state. A transaction that has written and not
# yet replaced the token gets no token (`data_token()` is None): what it sees is
# nobody else's state, and it must not read or fill the cache.
#
# Writes that bypass SQLAlchemy (psql by hand, another program) do not change the
# token: after such a change restart the app, or run `UPDATE data_version SET
# token = token + 1`.

_WROTE = "community.wrote"  # on the pooled connection's info: written since the last bump
_TOKEN = "community.token"  # nosec B105: a key of conn.info (the token its transaction read)
_PRESENT = "community.data_version"  # on the engine: the table exists (True) or unknown
_WRITE_WORDS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "UPSERT")
_DDL_WORDS = ("CREATE", "DROP", "ALTER", "RENAME")


def _classify(statement: str) -> str | None:
    head = statement.lstrip()[:7].upper()
    if head.startswith(_WRITE_WORDS):
        return "write"
    if head.startswith(_DDL_WORDS):
        return "ddl"
    if head.startswith("WITH") and any(w in statement.upper() for w in _WRITE_WORDS):
        return "write"  # a data-modifying CTE
    return None


def _present(conn: Connection) -> bool:
    """Whether the table exists (migrations before it, or a downgrade, run without
    it); known once seen, asked again after any DDL."""
    engine = conn.engine
    if engine.__dict__.get(_PRESENT):
        return True
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if conn.dialect.name == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'data_version'"
            )
            found = bool(cursor.fetchone()[0])
        else:
            cursor.execute("SELECT to_regclass('data_version') IS NOT NULL")
            found = bool(cursor.fetchone()[0])
    finally:
        cursor.close()
    if found:
        engine.__dict__[_PRESENT] = True
    return found


def _bump(conn: Connection) -> None:
    """Replace the token inside the connection's transaction (on the DBAPI cursor: the
    statement is ours, no event should see it as a write)."""
    conn.info.pop(_WROTE, None)
    conn.info.pop(_TOKEN, None)
    if not _present(conn):
        return
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        # An integer we made: safe to put into the text, whatever the driver's paramstyle.
        token = secrets.randbits(62)
        cursor.execute(f"UPDATE data_version SET token = {token} WHERE id = 1")  # nosec B608: an int
    finally:
        cursor.close()


def _before_cursor_execute(conn, cursor, statement, parameters, context, executemany) -> None:
    kind = _classify(statement)
    if kind == "write":
        conn.info[_WROTE] = True
        conn.info.pop(_TOKEN, None)
    elif kind == "ddl":
        conn.engine.__dict__.pop(_PRESENT, None)
        conn.info[_WROTE] = True
        conn.info.pop(_TOKEN, None)


def _on_commit(conn: Connection) -> None:
    if conn.info.get(_WROTE):
        _bump(conn)
    conn.info.pop(_TOKEN, None)  # the next transaction reads the token again


def _on_rollback(conn: Connection) -> None:
    conn.info.pop(_WROTE, None)
    conn.info.pop(_TOKEN, None)


def _on_rollback_savepoint(conn: Connection, name, context) -> None:
    conn.info.pop(_TOKEN, None)


def _on_reset(dbapi_connection, record, reset_state) -> None:
    record.info.pop(_WROTE, None)
    record.info.pop(_TOKEN, None)


def _before_session_commit(session: Session) -> None:
    """The session's commit (in the tests a SAVEPOINT release): flush what is
    pending, then replace the token as the transaction's last statement (on
    PostgreSQL the row's lock is held only for the commit itself)."""
    transaction = session.get_transaction()
    if transaction is None:
        return
    session.flush()
    # Only a connection the transaction already holds can have written (asking for
    # one would begin a transaction: on SQLite a POST's BEGIN IMMEDIATE).
    if not getattr(transaction, "_connections", True):
        return
    conn = session.connection()  # the app has one database (one bind)
    if conn.info.get(_WROTE):
        _bump(conn)


def init_versions(engine: Engine) -> None:
    """Listen on `engine` (once per engine) and on every ORM session."""
    if getattr(engine, "_community_versions", False):
        return
    engine._community_versions = True
    event.listen(engine, "before_cursor_execute", _before_cursor_execute)
    event.listen(engine, "commit", _on_commit)
    event.listen(engine, "rollback", _on_rollback)
    event.listen(engine, "rollback_savepoint", _on_rollback_savepoint)
    event.listen(engine.pool, "reset", _on_reset)
    if not event.contains(Session, "before_commit", _before_session_commit):
        event.listen(Session, "before_commit", _before_session_commit)


def data_token(session: Any) -> int | None:
    """The token as `session`'s transaction sees it (one small query), or None when
    that transaction has written since it last replaced the token, or before the
    table exists: then nothing may be served from, or put into, a cache."""
    conn = session.connection()
    if conn.info.get(_WROTE) or not _present(conn):
        return None
    token = conn.info.get(_TOKEN)
    if token is None:
        token = conn.exec_driver_sql("SELECT token FROM data_version WHERE id = 1").scalar()
        conn.info[_TOKEN] = token
    return token


def first_with_data_token(session: Any, stmt: Select) -> Any:
    """The first entity `stmt` selects, with the data token read in the same statement
    (kept for `data_token()` of this transaction): a request that loads its user
    anyway learns the token at no extra round trip."""
    conn = session.connection()
    if conn.info.get(_WROTE) or not _present(conn):
        return session.scalars(stmt).first()
    token = select(DataVersion.token).where(DataVersion.id == 1).scalar_subquery()
    row = session.execute(stmt.add_columns(token)).first()
    if row is None:
        return None
    conn.info[_TOKEN] = row[-1]
    return row[0]


def has_written(session: Any) -> bool:
    """Whether `session`'s transaction has written since it last replaced the token
    (what it computes now must not go into a cache kept under an earlier token)."""
    if isinstance(session, scoped_session):
        session = session()
    transaction = session.get_transaction()
    if transaction is None or not getattr(transaction, "_connections", True):
        return False
    return bool(session.connection().info.get(_WROTE))
