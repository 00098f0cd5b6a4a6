"""In-app notifications: `notify()` adds one notice per recipient in the caller's
transaction (services call it; it only adds rows, never commits).

Each kind registers its message once (`register_message`), a lazy string with
%(name)s placeholders filled from `params` at read time, so a notice reads in the
reader's language. A `key` makes the notice idempotent per user: the same key for
the same user is stored once, whoever sends it and however often.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app, has_request_context, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from community.core.models import Notification

_MESSAGES: dict[str, Any] = {}


def register_message(kind: str, text: Any) -> None:
    """`text` is a lazy_gettext string; its placeholders are the keys of `params`."""
    _MESSAGES[kind] = text


def message(kind: str, params: dict | None) -> str:
    text = _MESSAGES.get(kind)
    if text is None:
        return kind
    try:
        return str(text) % (params or {})
    except (KeyError, TypeError, ValueError):
        return str(text)


def path_for(endpoint: str, **values: Any) -> str:
    """The path of `endpoint` for a notice's link, in a request or not (a reminder run
    by cron builds links too; a notice's link is a path, never a host)."""
    if has_request_context():
        return url_for(endpoint, **values)
    root = current_app.config.get("APPLICATION_ROOT") or "/"
    return current_app.url_map.bind("localhost", script_name=root).build(endpoint, values)


def notify(
    session: Session,
    user_ids: Iterable[int],
    kind: str,
    *,
    link: str | None = None,
    key: str | None = None,
    **params: Any,
) -> list[Notification]:
    """Add a notice of `kind` for each user (each once). With `key`, users who already
    hold a notice with that key are skipped (idempotent). Raises KeyError for an
    unregistered kind, so a typo fails in tests rather than showing a raw name."""
    if kind not in _MESSAGES:
        raise KeyError(f"unregistered notification kind: {kind}")
    ids = sorted({int(u) for u in user_ids if u is not None})
    if not ids:
        return []
    if key is not None:
        seen = set(
            session.scalars(
                select(Notification.user_id).where(
                    Notification.dedupe_key == key, Notification.user_id.in_(ids)
                )
            )
        )
        ids = [u for u in ids if u not in seen]
    notices = [
        Notification(user_id=u, kind=kind, params=params or None, link=link, dedupe_key=key)
        for u in ids
    ]
    session.add_all(notices)
    session.flush()
    return notices
