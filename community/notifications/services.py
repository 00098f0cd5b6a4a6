"""The reader's side of notices: count, list, mark read. Plain functions; they
flush, never commit."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from community.core.models import Notification
from community.core.pagination import Page, paginate
from community.core.timeutil import utcnow


def unread_count(session: Session, user_id: int) -> int:
    """One COUNT served by ix_notification_user_unread (user_id, read_at, id)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def list_notices(session: Session, user_id: int, page: int, unread_only: bool = False) -> Page:
    """The user's notices, newest first (the index's id order)."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return paginate(session, stmt.order_by(Notification.id.desc()), page)


def mark_read(session: Session, notice: Notification) -> bool:
    """Mark one notice read; True when it was unread (reading twice changes nothing)."""
    if notice.read_at is not None:
        return False
    result = session.execute(
        update(Notification)
        .where(Notification.id == notice.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.expire(notice, ["read_at"])
    return result.rowcount == 1


def mark_all_read(session: Session, user_id: int) -> int:
    """Mark every unread notice of the user read; returns how many."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return result.rowcount or 0
