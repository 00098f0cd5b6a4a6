"""The bell fragment, the list of one's notices, following a notice (a POST: it marks
the notice read), marking read."""

from __future__ import annotations

from flask import Response, current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.accounts.auth import safe_next
from community.accounts.permissions import visible_or_404
from community.core import events
from community.core.forms import EmptyForm
from community.core.htmx import render, submit
from community.core.models import Notification
from community.core.notify import message
from community.core.pagination import parse_page
from community.extensions import db
from community.notifications import bp, services


def _list(status: int = 200, conflict=None, trigger=None) -> Response:
    page = services.list_notices(db.session, current_user.id, parse_page(request.args.get("page")))
    return render(
        "notifications/index.html",
        "notice_list",
        page=page,
        message=message,
        form=EmptyForm(),
        status=status,
        trigger=trigger,
    )


@bp.route("/")
@login_required
def index():
    return _list()


@bp.route("/bell")
def bell():
    """The header's unread count (polled by htmx); nothing for a visitor, so an
    expired session's poll does not swap the login page into the header."""
    if not current_user.is_authenticated:
        return Response(status=204)
    count = services.unread_count(db.session, current_user.id)
    # Rendered without the context processors (the navigation bar would cost the
    # memberships query on every poll): the fragment needs only the count.
    body = current_app.jinja_env.get_template("notifications/bell.html").render(count=count)
    return Response(body, mimetype="text/html", headers={"Cache-Control": "no-store"})


def _notice_or_404(notice_id: int) -> Notification:
    return visible_or_404(db.session.get(Notification, notice_id), "notification.view")


def _target(notice: Notification) -> str:
    return safe_next(notice.link) or url_for("notifications.index")


@bp.route("/<int:notice_id>")
@login_required
def show(notice_id: int):
    """Where a notice points (an address kept from before notices were followed by
    POST); a GET writes nothing, so the notice stays unread."""
    return redirect(_target(_notice_or_404(notice_id)), code=303)


@bp.route("/<int:notice_id>", methods=["POST"])
@login_required
def follow(notice_id: int):
    """Following a notice (the list's link is a small form) marks it read and lands on
    what it is about."""
    notice = _notice_or_404(notice_id)
    return submit(
        EmptyForm(),
        lambda: services.mark_read(db.session, notice),
        page=_list,
        message=None,
        location=_target(notice),
    )


@bp.route("/<int:notice_id>/read", methods=["POST"])
@login_required
def read(notice_id: int):
    notice = _notice_or_404(notice_id)
    return submit(
        EmptyForm(),
        lambda: services.mark_read(db.session, notice),
        page=_list,
        message=_("Marked as read."),
        location=url_for("notifications.index", page=request.args.get("page")),
        fragment=lambda _r: _list(trigger=events.NOTICES_READ),
    )


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    return submit(
        EmptyForm(),
        lambda: services.mark_all_read(db.session, current_user.id),
        page=_list,
        message=_("All notices marked as read."),
        location=url_for("notifications.index"),
        fragment=lambda _r: _list(trigger=events.NOTICES_READ),
    )
