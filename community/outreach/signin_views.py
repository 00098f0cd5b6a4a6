"""The attendees' public pages (no account): sign in by the event's QR code within
the window (once per phone: a cookie; the page's nonce answers a replay with the
first sign-in), the take-away page and the quiz. Rate limited per address."""

from __future__ import annotations

import secrets

from flask import abort, current_app, redirect, request, url_for
from flask_babel import gettext as _

from community.core.errors import Conflict, RuleViolation
from community.core.forms import apply_violation, choices
from community.core.htmx import render, saved
from community.core.timeutil import local_date
from community.extensions import db, limiter
from community.outreach import bp, queries, quiz, services
from community.outreach.forms import LABELS, QuizForm, SigninForm
from community.outreach.models import OutreachEvent

DEVICE_COOKIE = "outreach_device"
DEVICE_MAX_AGE = 400 * 24 * 3600


# --- the attendees' sign-in (public) -------------------------------------------------


def _signin_limit() -> str:
    # Attendees of one event often share an address (a factory's Wi-Fi, mobile
    # carriers' NAT): the limit stops floods, not a full hall.
    return current_app.config["OUTREACH_SIGNIN_RATE_LIMIT"]


def _event_by_token_or_404(token: str) -> OutreachEvent:
    event = queries.get_event_by_token(db.session, token)
    if event is None:
        abort(404)
    return event


def _device() -> str | None:
    value = request.cookies.get(DEVICE_COOKIE, "")
    return (
        value
        if 16 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum()
        else None
    )


def _with_device(resp, device: str):
    resp.set_cookie(
        DEVICE_COOKIE,
        device,
        max_age=DEVICE_MAX_AGE,
        path=url_for("outreach.signin", signin_token="x").rsplit("/", 1)[0] + "/",  # nosec B106 # a path, no password
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return resp


def _closed_page(event: OutreachEvent, exc: services.SigninClosed):
    return render(
        "outreach/signin.html",
        event=event,
        closed=exc,
        form=None,
        status=410,
        **LABELS,
    )


def _signin_page(event: OutreachEvent, form: SigninForm, status: int = 200, conflict=None):
    if not form.nonce.data:
        form.nonce.data = secrets.token_urlsafe(24)
    return render(
        "outreach/signin.html",
        "signin_form",
        event=event,
        closed=None,
        form=form,
        conflict=conflict,
        status=status,
        **LABELS,
    )


@bp.route("/s/<signin_token>", methods=["GET", "POST"])
@limiter.limit(_signin_limit, methods=["POST"])
def signin(signin_token: str):
    event = _event_by_token_or_404(signin_token)
    device = _device()
    first = services.first_signin(db.session, event, device=device) if device else None
    if first is not None:
        return redirect(url_for("outreach.done", signin_token=signin_token), code=303)
    form = SigninForm()
    if request.method == "GET":
        if not services.signin_open(event):
            return _closed_page(
                event,
                services.SigninClosed(*services.signin_window(event), event.status),
            )
        return _signin_page(event, form)
    if not form.validate_on_submit():
        return _signin_page(event, form, status=422)
    try:
        signin, _new = services.sign_in(
            db.session,
            event,
            nonce=form.nonce.data,
            device=device or secrets.token_urlsafe(24),
            name=form.name.data or "",
            employer=form.employer.data or "",
        )
    except services.SigninClosed as exc:
        return _closed_page(event, exc)
    except RuleViolation as exc:
        db.session.rollback()
        apply_violation(form, exc)
        return _signin_page(event, form, status=422)
    resp = saved(None, url_for("outreach.done", signin_token=signin_token))
    return _with_device(resp, signin.device)


def _quiz_form(event: OutreachEvent, formdata=None) -> QuizForm:
    form = QuizForm(formdata=formdata) if formdata is not None else QuizForm(formdata=None)
    for i, q in enumerate(quiz.questions(event.kind), 1):
        field = getattr(form, f"q{i}")
        field.label.text = str(q.text)
        field.choices = choices((value, str(label)) for value, label in q.options)
    return form


def _done_page(event, signin, form=None, status: int = 200, conflict=None):
    return render(
        "outreach/done.html",
        "quiz",
        event=event,
        signin=signin,
        form=form or _quiz_form(event),
        scams=quiz.season_scams(local_date(signin.signed_at)),
        hotline=quiz.HOTLINE,
        takeaway=quiz.TAKEAWAYS.get(event.kind),
        total=quiz.QUESTIONS,
        conflict=conflict,
        status=status,
        **LABELS,
    )


def _my_signin(event: OutreachEvent):
    device = _device()
    return services.first_signin(db.session, event, device=device) if device else None


@bp.route("/s/<signin_token>/done")
def done(signin_token: str):
    """What an attendee keeps after signing in: when, the take-away, the quiz."""
    event = _event_by_token_or_404(signin_token)
    signin = _my_signin(event)
    if signin is None:
        return redirect(url_for("outreach.signin", signin_token=signin_token))
    return _done_page(event, signin)


@bp.route("/s/<signin_token>/quiz", methods=["POST"])
@limiter.limit(_signin_limit)
def answer(signin_token: str):
    event = _event_by_token_or_404(signin_token)
    signin = _my_signin(event)
    form = _quiz_form(event, request.form)
    if not form.validate_on_submit():
        if signin is None:
            abort(422, description=_("Sign in first, then answer the quiz."))
        return _done_page(event, signin, form, status=422)
    if signin is None:  # only a phone that signed in answers
        abort(403)
    answers = [getattr(form, f"q{i}").data for i in range(1, quiz.QUESTIONS + 1)]
    try:
        right = services.answer_quiz(db.session, event, signin, answers)
    except Conflict as exc:
        db.session.rollback()
        return _done_page(event, _my_signin(event), form, status=409, conflict=exc.message)
    return saved(
        _("%(right)d of %(total)d right. Thank you!", right=right, total=quiz.QUESTIONS),
        url_for("outreach.done", signin_token=signin_token),
        lambda: _done_page(event, _my_signin(event)),
    )
