"""One-time submission tokens: a form POST repeated with the same token creates
nothing new and gets the answer the first one got.

The token is looked up when the request starts (a read: a repeat is answered at
once) and written when it ends, in the request's one commit together with the
records the view made (`commit()`, called by core.htmx.saved). Of two concurrent
submissions on PostgreSQL, the second one's token INSERT fails on the primary key
once the first commits: its transaction is rolled back, so nothing it made is
kept, and it replays the first one's answer. On SQLite a write request's
transaction holds the write lock from its first statement (BEGIN IMMEDIATE, see
community/__init__.py), so the second waits for the first to commit, finds its
token at the start and replays without running the view; the PRIMARY KEY stays
the backstop. (The lock is then held during the view's own work too: keep
expensive work, such as decoding a photo, short.)

Rows expire after TOKEN_TTL: a form older than that submits as new. Expired rows
are deleted on every write here and by `flask purge-expired`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import wraps

from flask import Response, abort, g, redirect, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from community.core.models import SubmissionToken
from community.core.partial import is_partial
from community.core.timeutil import utcnow
from community.extensions import db

TOKEN_TTL = timedelta(days=1)
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_REPLAYED_HEADERS = ("HX-Trigger", "HX-Location", "HX-Push-Url", "HX-Reswap", "HX-Retarget")


def _replay(row: SubmissionToken | None) -> Response:
    if row is None or row.status is None:
        abort(409, description=_("This form was already submitted."))
    if row.location:
        if is_partial():
            return Response("", status=200, headers={"HX-Location": row.location})
        return redirect(row.location, code=303)
    resp = Response(row.body or "", status=row.status)
    for name, value in (row.headers or {}).items():
        resp.headers[name] = value
    return resp


def _user_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def once(view):
    """Give a repeated submission of the same form the first answer (see module doc)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = request.form.get("submission_token", "") if request.method == "POST" else ""
        if not _TOKEN_RE.match(token):
            return view(*args, **kwargs)
        row = db.session.get(SubmissionToken, token)
        if row is not None and row.created_at >= utcnow() - TOKEN_TTL:
            return _replay(row if row.user_id == _user_id() else None)
        g.once_token = token
        return view(*args, **kwargs)

    return wrapper


def reads_first(view):
    """Mark a POST view whose slow part (decoding a photo, reading a spreadsheet)
    comes before its first write: on SQLite its transaction begins deferred, so
    no write lock is held meanwhile (every other write request begins IMMEDIATE,
    see community/__init__.py:_sqlite_begin). Kept through @wraps decorators."""
    view.reads_first = True
    return view


def purge_expired(session: Session) -> int:
    """Delete the tokens older than TOKEN_TTL; returns how many."""
    result = session.execute(
        delete(SubmissionToken).where(SubmissionToken.created_at < utcnow() - TOKEN_TTL)
    )
    return result.rowcount or 0


def commit(resp: Response) -> Response:
    """The request's one commit: the view's changes, and the submission token with the
    answer when the request came through @once. A token written meanwhile by a
    concurrent copy of this submission rolls this one back and replays that answer."""
    token = g.pop("once_token", None)
    if token is None:
        db.session.commit()
        return resp
    row = SubmissionToken(token=token, user_id=_user_id(), status=resp.status_code)
    if 300 <= resp.status_code < 400:
        row.location = resp.headers.get("Location")
    else:
        row.body = resp.get_data(as_text=True)
        row.headers = {h: resp.headers[h] for h in _REPLAYED_HEADERS if h in resp.headers}
    purge_expired(db.session)
    try:
        with db.session.begin_nested():
            db.session.add(row)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        first = db.session.get(SubmissionToken, token)
        return _replay(first if first is not None and first.user_id == _user_id() else None)
    return resp
