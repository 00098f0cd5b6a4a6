"""Read side of the audit log: filters, keyset pages and the CSV rows, always within
the reader's scope (permissions.visible_events), which every filter narrows further.

Pages are keyset pages on the id (newest first): `before=<id>` continues after the
last row shown, so a page costs the same on row 50 and on row 5,000,000, and no
COUNT runs. Each filter has its index (ix_audit_event_actor_id, _object, _action,
_at; the first three end in id, so filter + order + limit is one index range).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from community.accounts.models import User
from community.audit.permissions import visible_events
from community.core.models import AuditEvent
from community.core.timeutil import day_start

PER_PAGE = 50
EXPORT_BATCH = 1000


@dataclass
class Filters:
    username: str | None = None
    object_type: str | None = None
    object_id: int | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def query_args(self) -> dict[str, Any]:
        args = {
            "user": self.username,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "action": self.action,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
        }
        return {k: v for k, v in args.items() if v not in (None, "")}


@dataclass
class EventPage:
    items: list = field(default_factory=list)
    newer: int | None = None  # `after=` of the previous (newer) page
    older: int | None = None  # `before=` of the next (older) page


def filtered(session: Session, user: Any, filters: Filters) -> Select | None:
    """SELECT of the matching events `user` may read (unordered); None when the named
    actor does not exist (nothing can match)."""
    stmt = select(AuditEvent).where(visible_events(user))
    if filters.username:
        actor_id = session.scalar(
            select(User.id).where(func.lower(User.username) == filters.username.strip().lower())
        )
        if actor_id is None:
            return None
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if filters.object_type:
        stmt = stmt.where(AuditEvent.object_type == filters.object_type.strip().lower())
    if filters.object_id:
        stmt = stmt.where(AuditEvent.object_id == filters.object_id)
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action.strip())
    # Dates are local days (the page shows local times), their bounds UTC instants.
    # A date range becomes an id range too (events are appended: times follow ids),
    # each bound one seek in ix_audit_event_at, so the newest-first walk on the id
    # starts at the range instead of filtering every newer row.
    if filters.date_from:
        start = day_start(filters.date_from)
        first = (
            select(AuditEvent.id)
            .where(AuditEvent.at >= start)
            .order_by(AuditEvent.at, AuditEvent.id)
            .limit(1)
            .scalar_subquery()
        )
        stmt = stmt.where(AuditEvent.at >= start, AuditEvent.id >= first)
    if filters.date_to:
        end = day_start(filters.date_to + timedelta(days=1))
        last = (
            select(AuditEvent.id)
            .where(AuditEvent.at < end)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        stmt = stmt.where(AuditEvent.at < end, AuditEvent.id <= last)
    return stmt


def list_events(
    session: Session,
    user: Any,
    filters: Filters,
    *,
    before: int | None = None,
    after: int | None = None,
    per_page: int = PER_PAGE,
) -> EventPage:
    """One page of the events `user` may read, newest first: older than `before`, or
    (going back) newer than `after`. Two queries at most (the user look-up and the
    page)."""
    stmt = filtered(session, user, filters)
    if stmt is None:
        return EventPage()
    if after is not None:
        rows = list(
            session.scalars(
                stmt.where(AuditEvent.id > after).order_by(AuditEvent.id.asc()).limit(per_page + 1)
            )
        )
        more_newer = len(rows) > per_page
        rows = list(reversed(rows[:per_page]))
        return EventPage(
            items=rows,
            newer=rows[0].id if rows and more_newer else None,
            older=rows[-1].id if rows else None,
        )
    if before is not None:
        stmt = stmt.where(AuditEvent.id < before)
    rows = list(session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(per_page + 1)))
    more_older = len(rows) > per_page
    rows = rows[:per_page]
    return EventPage(
        items=rows,
        newer=rows[0].id if rows and (before is not None) else None,
        older=rows[-1].id if rows and more_older else None,
    )


def actor_names(session: Session, events: list[AuditEvent]) -> dict[int, str]:
    """{user id: username} of the events' actors, in one query."""
    ids = {e.actor_id for e in events if e.actor_id is not None}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def export_rows(session: Session, user: Any, filters: Filters) -> Iterator[list[Any]]:
    """Every matching event `user` may read, newest first, in batches (keyset on id),
    with the actor's username; for the CSV export. The statement (the reader's scope
    above all) is built now, in the request; the rows are read as the CSV streams."""
    stmt = filtered(session, user, filters)
    if stmt is None:
        return iter(())
    return _batches(
        session, stmt.add_columns(User.username).outerjoin(User, User.id == AuditEvent.actor_id)
    )


def _batches(session: Session, stmt: Select) -> Iterator[list[Any]]:
    before = None
    while True:
        page = stmt if before is None else stmt.where(AuditEvent.id < before)
        batch = session.execute(page.order_by(AuditEvent.id.desc()).limit(EXPORT_BATCH)).all()
        for event, username in batch:
            yield [
                event.id,
                event.at.isoformat(sep=" ", timespec="seconds"),
                username or "",
                event.address or "",
                event.action,
                event.object_type,
                event.object_id if event.object_id is not None else "",
                format_detail(event.detail),
            ]
        if len(batch) < EXPORT_BATCH:
            return
        before = batch[-1][0].id


def format_detail(detail: dict | None) -> str:
    """key=value pairs of an event's summary, for the page and the CSV."""
    if not detail:
        return ""
    return "; ".join(f"{k}={v}" for k, v in detail.items())
