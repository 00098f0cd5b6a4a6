"""One-time submission tokens: a form POST repeated with the same token creates
nothing new and gets the answer the first one got.

The token row is inserted as the request's first write, in the same
transaction as the records the view creates, so two concurrent submissions
serialise on its primary key: the second sees the first one's answer.
"""

from __future__ import annotations

from functools import wraps

from flask import Response, redirect, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from community.core.htmx import is_partial
from community.core.models import SubmissionToken
from community.extensions import db

_REPLAYED_HEADERS = ("HX-Trigger", "HX-Location", "HX-Push-Url", "HX-Reswap", "HX-Retarget")


def _replay(row: SubmissionToken | None) -> Response:
    if row is None or row.status is None:
        from flask import abort

        abort(409, description=_("This form was already submitted."))
    if row.location:
        if is_partial():
            resp = Response("", status=200, headers={"HX-Location": row.location})
            resp.vary.add("HX-Request")
            return resp
        return redirect(row.location, code=303)
    resp = Response(row.body or "", status=row.status)
    for name, value in (row.headers or {}).items():
        resp.headers[name] = value
    resp.vary.add("HX-Request")
    return resp


def once(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        token = request.form.get("submission_token", "") if request.method == "POST" else ""
        if not token or len(token) > 64:
            return view(*args, **kwargs)
        user_id = current_user.id if current_user.is_authenticated else None
        db.session.add(SubmissionToken(token=token, user_id=user_id))
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            row = db.session.get(SubmissionToken, token)
            if row is not None and row.user_id != user_id:
                row = None
            return _replay(row)
        resp = view(*args, **kwargs)
        if not isinstance(resp, Response):
            from flask import make_response

            resp = make_response(resp)
        if resp.status_code >= 400:
            db.session.rollback()
            return resp
        row = db.session.get(SubmissionToken, token)
        if row is None:  # the view rolled back without failing: nothing to remember
            return resp
        row.status = resp.status_code
        if 300 <= resp.status_code < 400:
            row.location = resp.headers.get("Location")
        else:
            row.body = resp.get_data(as_text=True)
            row.headers = {h: resp.headers[h] for h in _REPLAYED_HEADERS if h in resp.headers}
        db.session.commit()
        return resp

    return wrapper
