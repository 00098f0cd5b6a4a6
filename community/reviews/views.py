"""Routes of the review queue: the list, one decision in place, bulk approval and
the navigation badge."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.accounts.auth import safe_next
from community.accounts.models import Area
from community.accounts.permissions import authorize_or_403, visible_or_404
from community.core.htmx import is_partial, render, submit
from community.core.nav import nav_badges, set_badge_value
from community.core.pagination import parse_page
from community.core.reviews import review_kind
from community.extensions import db
from community.reviews import bp, queries, services
from community.reviews.forms import BulkForm, DecisionForm
from community.reviews.permissions import review_areas

_ITEM_RE = re.compile(r"^([a-z_]+)-(\d{1,10})$")


def _next(value: str | None) -> str:
    """Where a plain form lands: the queue with the filters it was posted from (a
    local path to the queue, nothing else)."""
    queue = url_for("reviews.index")
    target = safe_next(value)
    if target and urlsplit(target).path == queue:
        return target
    return queue


def _filters() -> tuple[str, Area | None]:
    kind = request.args.get("kind", "")
    if not any(k.name == kind for k in queries.queue_kinds(current_user)):
        kind = ""
    area = None
    area_id = request.args.get("area", "")
    if area_id.isdigit() and len(area_id) < 10:
        area = db.session.scalar(review_areas(current_user).where(Area.id == int(area_id)))
    return kind, area


def _badge(total: int | None = None):
    """The navigation badge element (after a decision: out-of-band)."""
    if total is None:
        total = sum(queries.counts(db.session, current_user, cap=queries.COUNT_CAP).values())
    set_badge_value("reviews.index", total)
    return nav_badges(current_user).get(url_for("reviews.index"))


def _queue_page(status: int = 200, conflict: str | None = None, bulk_form=None):
    kind, area = _filters()
    page = queries.list_queue(
        db.session,
        current_user,
        kind=kind or None,
        area=area,
        page=parse_page(request.args.get("page")),
    )
    # Rendered by the bulk POST too: its pager links must point at the queue.
    page.endpoint = "reviews.index"
    unfiltered = page.total if not kind and area is None else None
    return render(
        "reviews/index.html",
        "queue",
        page=page,
        kinds=queries.queue_kinds(current_user),
        kind=kind,
        area=area,
        areas=list(db.session.scalars(review_areas(current_user))),
        form=DecisionForm(formdata=None),
        bulk_form=bulk_form or BulkForm(formdata=None),
        next_url=url_for("reviews.index", **request.args),
        badge=_badge(unfiltered),
        oob=is_partial(),
        conflict=conflict,
        status=status,
    )


@bp.route("/")
@login_required
def index():
    authorize_or_403("reviews.view")
    return _queue_page()


@bp.route("/badge")
@login_required
def badge():
    authorize_or_403("reviews.view")
    return render("reviews/badge.html", "badge", badge=_badge())


def _item_or_404(kind_name: str, record_id: int):
    kind = review_kind(kind_name)
    if kind is None or not kind.decidable:
        abort(404)
    obj = visible_or_404(kind.get(db.session, record_id), kind.view_action)
    return kind, obj


def _row_answer(kind, record_id: int, form, *, status: int, conflict: str | None = None):
    """The row again: invalid input (422) or already decided by someone (409)."""
    row = queries.get_row(db.session, current_user, kind, record_id)
    by = None
    if row is None:
        by = queries.decided_by(db.session, kind, record_id)
    return render(
        "reviews/row.html",
        "row",
        row=row,
        kind=kind,
        record_id=record_id,
        form=form,
        decided_by=by,
        details=kind.link(record_id) if queries.opens_link(current_user, kind) else None,
        conflict=conflict,
        next_url=_next(form.next.data),
        badge=_badge(),
        oob=True,
        status=status,
    )


@bp.route("/<kind_name>/<int:record_id>", methods=["POST"])
@login_required
def decide(kind_name: str, record_id: int):
    kind, obj = _item_or_404(kind_name, record_id)
    authorize_or_403(kind.decide_action, obj)
    form = DecisionForm()
    decision = form.decision.data
    return submit(
        form,
        lambda: services.decide(
            db.session, current_user, kind, obj, form.decision.data, form.reason.data
        ),
        page=lambda status, conflict=None: _row_answer(
            kind, record_id, form, status=status, conflict=conflict
        ),
        message=_("Approved.") if decision == "approve" else _("Rejected."),
        location=_next(form.next.data),
        fragment=lambda _result: render(
            "reviews/row.html",
            "decided",
            kind=kind,
            record_id=record_id,
            decision=decision,
            badge=_badge(),
            oob=True,
        ),
    )


@bp.route("/bulk", methods=["POST"])
@login_required
def bulk():
    authorize_or_403("reviews.view")
    form = BulkForm()
    items = []
    for value in form.items.data or []:
        match = _ITEM_RE.match(value)
        if match is None:
            abort(404)
        kind, obj = _item_or_404(match.group(1), int(match.group(2)))
        authorize_or_403(kind.decide_action, obj)
        items.append((kind, obj))
    return submit(
        form,
        lambda: services.approve_many(db.session, current_user, items),
        page=lambda status, conflict=None: _queue_page(
            status=status, conflict=conflict, bulk_form=form
        ),
        message=lambda done: _("%(count)d approved.", count=done),
        location=_next(form.next.data),
        fragment=lambda _done: _queue_page(),
    )
