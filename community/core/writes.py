"""Whether a step changed rows, so that `core.htmx.submit()` rolls back a refused step
that wrote (a conditional UPDATE that took a place before a later check refused)
and leaves alone one that only read: its page then renders from what the view
loaded, with no lazy load of an expired relationship.

Rows changed inside a savepoint that was rolled back (a service's own
`begin_nested()`) do not count: they are already undone.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

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
