"""The request side of the phone's offline queue (static/js/offline.js): reading an
on-duty step's idempotency key and the phone's times from the form, the request's
fingerprint, and the queue's JSON answers. The rules are services.offline's."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Response, jsonify, request
from sqlalchemy.orm import Session

from community.core.errors import Conflict, RuleViolation
from community.core.htmx import answered
from community.duty import services
from community.duty.services import offline
from community.extensions import db

# The queue marks its own requests with this header; they are answered in JSON.
QUEUE_HEADER = "X-Duty-Queue"


@dataclass
class KeyedRequest:
    key: str
    action: str
    clock: offline.ClientClock
    print_: str
    from_queue: bool

    def runner(self, session: Session, user: Any, claim: Any, step):
        """The step as apply_once runs it: once per key, at the phone's time."""
        earliest = offline.earliest_for(claim, self.action, services.check_in_opens(claim.task))

        def run(_claim: Any = None):
            return offline.apply_once(
                session,
                user,
                claim,
                key=self.key,
                print_=self.print_,
                action=self.action,
                clock=self.clock,
                earliest=earliest,
                step=lambda timing: step(claim, timing.at),
            )

        return run


def keyed_request(
    claim: Any, action: str, fields: Iterable[tuple[str, str]]
) -> KeyedRequest | None:
    """The form's key and times, or None when it carries no (valid) key."""
    key = request.form.get("idempotency_key", "")
    if not offline.KEY_RE.match(key):
        return None
    form = request.form
    made = form.get("client_at")
    return KeyedRequest(
        key=key,
        action=action,
        clock=offline.ClientClock.from_millis(made, form.get("sent_at"), form.get("fix_at")),
        # The time it was made is part of the content: the same tick made later
        # is another action.
        print_=offline.fingerprint(action, claim.id, [*fields, ("client_at", made or "")]),
        from_queue=bool(request.headers.get(QUEUE_HEADER)),
    )


def form_fields(names: Iterable[str], photo: str | None = None) -> list[tuple[str, str]]:
    """(name, value) of the form's fields, a photo as the SHA-256 of its bytes."""
    fields = [(n, request.form.get(n, "")) for n in names]
    upload = request.files.get(photo) if photo else None
    if upload is not None and upload.filename:
        digest = hashlib.sha256()
        for chunk in iter(lambda: upload.stream.read(65536), b""):
            digest.update(chunk)
        upload.stream.seek(0)
        fields.append((photo, digest.hexdigest()))
    return fields


def json_answer(status: int, **body: Any) -> Response:
    resp = jsonify(body)
    resp.status_code = status
    return resp


def _errors(form: Any) -> str:
    return " ".join(str(m) for messages in form.errors.values() for m in messages)


def queue_answer(run, form: Any = None) -> Response:
    """The queue's answer to one step: 200 {ok, replay, at, flags} when applied (now
    or before: the phone drops the item), 409 {reason, message} when it can no
    longer be applied, 422 {reason: invalid, message} for invalid input (the phone
    keeps those to show until dismissed). Anything else (5xx, no answer) leaves the
    item queued."""
    if form is not None and not form.validate_on_submit():
        return json_answer(422, ok=False, reason="invalid", message=_errors(form))
    try:
        applied = run(None)
    except RuleViolation as exc:
        db.session.rollback()
        message = " ".join(m for _f, m in exc.errors)
        return json_answer(422, ok=False, reason="invalid", message=message)
    except offline.Refused as exc:
        db.session.rollback()
        return json_answer(409, ok=False, reason=exc.reason, message=exc.message)
    except Conflict as exc:
        db.session.rollback()
        return json_answer(409, ok=False, reason="refused", message=exc.message)
    # A keyed step answers its applied key's result; a plain one (the consent) ok.
    action = getattr(applied, "action", None)
    body = dict(getattr(action, "result", None) or {})
    replay = bool(getattr(applied, "replay", False))
    return answered(json_answer(200, ok=True, replay=replay, **body))
