"""Outreach pages: events (list, publish, the organiser's page with the live count,
the QR poster, closing), the attendees' public sign-in, take-away and quiz, visit
requests, coverage, an enterprise's visits and experience corners."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from types import SimpleNamespace

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from community.accounts.models import Area, Organization
from community.accounts.permissions import authorize_or_403, can, visible_or_404
from community.core import events, uploads
from community.core.forms import EmptyForm, choices
from community.core.htmx import render, submit
from community.core.once import once, reads_first
from community.core.pagination import parse_page
from community.core.timeutil import to_local, to_utc, today, utcnow
from community.core.urls import public_url
from community.core.validators import is_id
from community.extensions import db
from community.outreach import bp, queries, services
from community.outreach.forms import (
    LABELS,
    CloseForm,
    CornerForm,
    CoverageForm,
    DeclineForm,
    EventEditForm,
    EventForm,
    RequestForm,
)
from community.outreach.models import KINDS, TARGETS, OutreachEvent, VisitRequest
from community.outreach.permissions import (
    organiser_scope,
    publish_areas,
    publishes,
    requester_orgs,
)
from community.places.models import Site
from community.places.qr import qr_svg


def _event_or_404(event_id: int) -> OutreachEvent:
    return visible_or_404(queries.get_event(db.session, event_id), "outreach.view")


def _request_or_404(request_id: int) -> VisitRequest:
    return visible_or_404(queries.get_request(db.session, request_id), "outreach.request.view")


# --- events --------------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    authorize_or_403("nav.outreach")
    when = "past" if request.args.get("when") == "past" else "upcoming"
    kind = request.args.get("kind", "")
    page = queries.list_events(
        db.session, current_user, when=when, kind=kind, page=parse_page(request.args.get("page"))
    )
    return render(
        "outreach/index.html",
        "event_list",
        page=page,
        when=when,
        kind=kind if kind in KINDS else "",
        kinds=KINDS,
        can_create=can(current_user, "outreach.create"),
        **LABELS,
    )


def _areas() -> list[Area]:
    return list(
        db.session.scalars(select(Area).where(publish_areas(current_user)).order_by(Area.path))
    )


def _bind_event_choices(form: EventForm) -> None:
    areas = _areas()
    form.area_id.choices = choices([(0, _("Choose a community"))] + [(a.id, a.name) for a in areas])
    organisers = db.session.scalars(
        select(Organization).where(organiser_scope(current_user)).order_by(Organization.name)
    )
    form.organiser_id.choices = choices([(o.id, o.name) for o in organisers])
    enterprises = db.session.scalars(
        select(Organization)
        .join(Area, Area.id == Organization.area_id)
        .where(Organization.kind == "enterprise", publish_areas(current_user))
        .order_by(Organization.name)
        .limit(2000)
    )
    form.enterprise_id.choices = choices(
        [(0, _("Choose an enterprise"))] + [(o.id, o.name) for o in enterprises]
    )
    corners = queries.list_corners(db.session, current_user)
    form.corner_id.choices = choices(
        [(0, _("No corner"))]
        + [
            (c.id, f"{c.name} ({c.opens.strftime('%H:%M')}–{c.closes.strftime('%H:%M')})")
            for c in corners
        ]
    )


def _prefill(form: EventForm) -> VisitRequest | None:
    """A new event's form from the query string: ?kind=&target=&enterprise_id=&site_id=
    (the coverage list, a site page) or ?request=<id> (scheduling a visit request)."""
    args = request.args
    if args.get("kind") in KINDS:
        form.kind.data = args["kind"]
    if args.get("target") in TARGETS:
        form.target.data = args["target"]
    for name in ("enterprise_id", "site_id", "area_id", "corner_id"):
        value = args.get(name, type=int)
        if value:
            getattr(form, name).data = value
    visit = None
    if args.get("request", type=int):
        visit = queries.get_request(db.session, args.get("request", type=int))
        if visit is None or not can(current_user, "outreach.request.decide", visit):
            abort(404)
        form.request_id.data = str(visit.id)
        form.kind.data = visit.kind
        form.planned_audience.data = visit.audience
        if visit.site_id:
            form.target.data, form.site_id.data = "site", visit.site_id
        else:
            form.target.data, form.enterprise_id.data = "enterprise", visit.organization_id
        start = datetime.combine(visit.preferred_from, time(9))
        form.starts_at.data, form.ends_at.data = start, start + timedelta(hours=1, minutes=30)
    if form.site_id.data:
        form.target.data = form.target.data if args.get("target") else "site"
    return visit


def _event_input(form: EventForm) -> services.EventInput:
    return services.EventInput(
        kind=form.kind.data,
        title=form.title.data or "",
        target=form.target.data,
        starts_at=to_utc(form.starts_at.data) if form.starts_at.data else None,
        ends_at=to_utc(form.ends_at.data) if form.ends_at.data else None,
        organiser_id=form.organiser_id.data,
        enterprise_id=form.enterprise_id.data,
        site_id=form.site_id.data,
        area_id=form.area_id.data,
        place=form.place.data or "",
        corner_id=form.corner_id.data or None,
        speakers=form.speakers.data or "",
        planned_audience=form.planned_audience.data or 0,
        staff=form.staff.data or 0,
        points=form.points.data if form.points.data is not None else 10,
        request_id=int(form.request_id.data) if (form.request_id.data or "").isdigit() else None,
    )


def _form_page(form: EventForm, visit=None, status: int = 200, conflict=None):
    site = db.session.get(Site, form.site_id.data) if is_id(form.site_id.data) else None
    return render(
        "outreach/form.html",
        "event_form",
        form=form,
        visit=visit,
        site=site,
        conflict=conflict,
        status=status,
        **LABELS,
    )


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
@once
def new():
    authorize_or_403("outreach.create")
    form = EventForm()
    _bind_event_choices(form)
    if request.method == "GET":
        return _form_page(form, _prefill(form))
    return submit(
        form,
        lambda: services.publish_event(db.session, current_user, _event_input(form)),
        page=lambda **kw: _form_page(form, **kw),
        message=_("Event published."),
        location=lambda e: url_for("outreach.show", event_id=e.id),
        trigger=events.OUTREACH_PUBLISHED,
    )


def _target_url(event: OutreachEvent) -> str | None:
    """The target's own page, when the user may open it."""
    if event.enterprise is not None and can(
        current_user, "outreach.enterprise.view", event.enterprise
    ):
        return url_for("outreach.enterprise", enterprise_id=event.enterprise_id)
    if event.site is not None and can(current_user, "site.view", event.site):
        return url_for("places.show", site_id=event.site_id)
    return None


def _event_page(
    event: OutreachEvent, *, status: int = 200, conflict=None, close_form=None, block=None
):
    manages = can(current_user, "outreach.manage", event)
    now = utcnow()
    opens, closes = services.signin_window(event)
    return render(
        "outreach/show.html",
        block,
        event=event,
        target_url=_target_url(event),
        manages=manages,
        live=queries.live_count(db.session, event.id) if manages else None,
        polling=manages
        and event.status == "published"
        and opens <= now <= closes + timedelta(hours=1),
        signin_url=public_url(url_for("outreach.signin", signin_token=event.signin_token))
        if manages
        else None,
        opens=opens,
        closes=closes,
        can_close=manages and event.status == "published" and event.starts_at <= now,
        can_edit=manages and event.status == "published" and event.starts_at > now,
        can_cancel=manages and event.status == "published",
        close_form=close_form or CloseForm(formdata=None),
        cancel_form=EmptyForm(formdata=None),
        photo_max_mb=f"{uploads.max_bytes() / (1024 * 1024):g}",
        duty_visible=event.duty_id is not None,
        conflict=conflict,
        status=status,
        **LABELS,
    )


@bp.route("/events/<int:event_id>")
@login_required
def show(event_id: int):
    return _event_page(_event_or_404(event_id))


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id: int):
    """Time, place and speakers of an event not started yet: whoever manages it
    (its publisher among them)."""
    event = _event_or_404(event_id)
    authorize_or_403("outreach.manage", event)
    if request.method == "GET":
        return _edit_page(event, EventEditForm(obj=_edit_values(event)))
    form = EventEditForm()
    return submit(
        form,
        lambda: services.update_event(
            db.session,
            current_user,
            event,
            starts_at=to_utc(form.starts_at.data) if form.starts_at.data else None,
            ends_at=to_utc(form.ends_at.data) if form.ends_at.data else None,
            place=form.place.data or "",
            speakers=form.speakers.data or "",
        ),
        page=lambda **kw: _edit_page(event, form, **kw),
        message=_("Event changed."),
        location=url_for("outreach.show", event_id=event.id),
    )


def _edit_values(event: OutreachEvent):
    return SimpleNamespace(
        starts_at=to_local(event.starts_at),
        ends_at=to_local(event.ends_at),
        place=event.place,
        speakers=event.speakers,
    )


def _edit_page(event: OutreachEvent, form: EventEditForm, status: int = 200, conflict=None):
    return render(
        "outreach/edit.html",
        "edit_form",
        event=event,
        form=form,
        editable=event.status == "published" and event.starts_at > utcnow(),
        conflict=conflict,
        status=status,
        **LABELS,
    )


@bp.route("/events/<int:event_id>/count")
@login_required
def count(event_id: int):
    """The organiser's live count (polled by htmx every few seconds): writes nothing."""
    event = _event_or_404(event_id)
    authorize_or_403("outreach.manage", event)
    return _event_page(event, block="live_count")


@bp.route("/events/<int:event_id>/poster")
@login_required
def poster(event_id: int):
    event = _event_or_404(event_id)
    authorize_or_403("outreach.manage", event)
    url = public_url(url_for("outreach.signin", signin_token=event.signin_token))
    return render(
        "outreach/poster.html",
        event=event,
        signin_url=url,
        signin_qr=qr_svg(url) if url else None,
        **LABELS,
    )


@bp.route("/events/<int:event_id>/close", methods=["POST"])
@login_required
@reads_first
def close(event_id: int):
    event = _event_or_404(event_id)
    authorize_or_403("outreach.manage", event)
    form = CloseForm()
    photos = [
        f.data.stream
        for f in (form.photo1, form.photo2, form.photo3)
        if getattr(f.data, "filename", "")
    ]
    return submit(
        form,
        lambda: services.close_event(
            db.session,
            current_user,
            event,
            hand_count=form.hand_count.data,
            materials=form.materials.data,
            notes=form.notes.data or "",
            photos=photos,
        ),
        page=lambda **kw: _event_page(event, close_form=form, block="event_card", **kw),
        message=_("Event closed with its attendance."),
        location=url_for("outreach.show", event_id=event.id),
        fragment=lambda e: _event_page(e, block="event_card"),
        trigger=events.OUTREACH_CLOSED,
    )


@bp.route("/events/<int:event_id>/cancel", methods=["POST"])
@login_required
def cancel(event_id: int):
    event = _event_or_404(event_id)
    authorize_or_403("outreach.manage", event)
    return submit(
        EmptyForm(),
        lambda: services.cancel_event(db.session, current_user, event),
        page=lambda **kw: _event_page(event, block="event_card", **kw),
        message=_("Event cancelled."),
        location=url_for("outreach.show", event_id=event.id),
        fragment=lambda e: _event_page(e, block="event_card"),
        trigger=events.OUTREACH_CANCELLED,
    )


@bp.route("/events/<int:event_id>/photos/<int:position>")
@login_required
def photo(event_id: int, position: int):
    event = _event_or_404(event_id)
    found = next((p for p in event.photos if p.position == position), None)
    if found is None:
        abort(404)
    return uploads.send(found.name)


# --- visit requests ------------------------------------------------------------------


@bp.route("/requests/")
@login_required
def requests():
    if not (
        can(current_user, "outreach.request.create") or can(current_user, "outreach.review_queue")
    ):
        abort(403)
    status = request.args.get("status", "")
    status = status if status in ("waiting", "scheduled", "declined") else ""
    page = queries.list_requests(
        db.session, current_user, status=status, page=parse_page(request.args.get("page"))
    )
    return render(
        "outreach/requests.html",
        "request_list",
        page=page,
        status_filter=status,
        can_request=can(current_user, "outreach.request.create"),
        **LABELS,
    )


def _bind_request_choices(form: RequestForm) -> None:
    orgs = list(
        db.session.scalars(
            select(Organization)
            .where(Organization.id.in_(requester_orgs(current_user)))
            .order_by(Organization.name)
        )
    )
    form.organization_id.choices = choices([(o.id, o.name) for o in orgs])
    companies = [o.id for o in orgs if o.kind == "property_company"]
    sites = (
        db.session.scalars(
            select(Site).where(Site.company_id.in_(companies)).order_by(Site.name).limit(500)
        )
        if companies
        else []
    )
    form.site_id.choices = choices(
        [(0, _("Not a site (the enterprise itself)"))] + [(s.id, s.name) for s in sites]
    )


def _request_form_page(form: RequestForm, status: int = 200, conflict=None):
    return render(
        "outreach/request_form.html",
        "request_form",
        form=form,
        conflict=conflict,
        status=status,
        **LABELS,
    )


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
@once
def new_request():
    authorize_or_403("outreach.request.create")
    form = RequestForm()
    _bind_request_choices(form)
    if request.method == "GET":
        return _request_form_page(form)
    return submit(
        form,
        lambda: services.request_visit(
            db.session,
            current_user,
            kind=form.kind.data,
            organization_id=form.organization_id.data,
            site_id=form.site_id.data,
            preferred_from=form.preferred_from.data,
            preferred_to=form.preferred_to.data,
            audience=form.audience.data,
            note=form.note.data or "",
        ),
        page=lambda **kw: _request_form_page(form, **kw),
        message=_("Request sent: the police or the community will schedule it."),
        location=lambda r: url_for("outreach.show_request", request_id=r.id),
        trigger=events.VISIT_REQUESTED,
    )


def _request_page(visit: VisitRequest, *, status: int = 200, conflict=None, form=None, block=None):
    decides = visit.status == "waiting" and can(current_user, "outreach.request.decide", visit)
    event = queries.get_event(db.session, visit.event_id) if visit.event_id else None
    return render(
        "outreach/request.html",
        block,
        visit=visit,
        event=event if event is not None and can(current_user, "outreach.view", event) else None,
        decides=decides,
        decline_form=form or DeclineForm(formdata=None),
        conflict=conflict,
        status=status,
        **LABELS,
    )


@bp.route("/requests/<int:request_id>")
@login_required
def show_request(request_id: int):
    return _request_page(_request_or_404(request_id))


@bp.route("/requests/<int:request_id>/decline", methods=["POST"])
@login_required
def decline(request_id: int):
    visit = _request_or_404(request_id)
    authorize_or_403("outreach.request.decide", visit)
    form = DeclineForm()
    return submit(
        form,
        lambda: services.decline_request(db.session, current_user, visit, form.reason.data),
        page=lambda **kw: _request_page(visit, form=form, block="request_card", **kw),
        message=_("Request declined."),
        location=url_for("outreach.show_request", request_id=visit.id),
        fragment=lambda v: _request_page(v, block="request_card"),
        trigger=events.VISIT_DECLINED,
    )


# --- coverage, an enterprise's visits -------------------------------------------------


@bp.route("/coverage")
@login_required
def coverage():
    authorize_or_403("nav.outreach.coverage")
    form = CoverageForm(request.args)
    areas = _areas()
    form.area.choices = choices([(0, _("All my areas"))] + [(a.id, a.name) for a in areas])
    area = next((a for a in areas if a.id == form.area.data), None)
    kind = form.kind.data if form.kind.data in KINDS else ""
    result = queries.coverage(
        db.session, queries.area_ids_for(current_user, area), today(), kind or None
    )
    return render(
        "outreach/coverage.html",
        "coverage",
        form=form,
        area=area,
        kind=kind,
        result=result,
        since=queries.twelve_months_before(today()),
        **LABELS,
    )


@bp.route("/enterprises/<int:enterprise_id>")
@login_required
def enterprise(enterprise_id: int):
    org = db.session.get(Organization, enterprise_id)
    if org is None or org.kind != "enterprise":
        abort(404)
    visible_or_404(org, "outreach.enterprise.view")
    return render(
        "outreach/enterprise.html",
        org=org,
        last=queries.last_visits(db.session, enterprise_id=org.id),
        can_create=can(current_user, "outreach.create") and publishes(current_user),
        kinds=KINDS,
        **LABELS,
    )


# --- experience corners ---------------------------------------------------------------


def _corner_page(form: CornerForm, status: int = 200, conflict=None):
    return render(
        "outreach/corners.html",
        "corner_form",
        form=form,
        corners=queries.list_corners(db.session, current_user),
        conflict=conflict,
        status=status,
        **LABELS,
    )


@bp.route("/corners/", methods=["GET", "POST"])
@login_required
@once
def corners():
    authorize_or_403("outreach.corner.create")
    form = CornerForm()
    form.area_id.choices = choices(
        [(0, _("Choose a community"))] + [(a.id, a.name) for a in _areas()]
    )
    if request.method == "GET":
        return _corner_page(form)
    return submit(
        form,
        lambda: services.create_corner(
            db.session,
            current_user,
            name=form.name.data,
            area_id=form.area_id.data,
            site_id=form.site_id.data,
            place=form.place.data or "",
            opens=form.opens.data,
            closes=form.closes.data,
            capacity=form.capacity.data,
        ),
        page=lambda **kw: _corner_page(form, **kw),
        message=_("Experience corner added."),
        location=url_for("outreach.corners"),
        trigger=events.CORNER_ADDED,
    )
