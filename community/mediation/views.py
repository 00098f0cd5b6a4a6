"""Mediation pages: the case list with its search, intake, the case page (its
steps answer with the case body in place), the printable agreement, my cases,
the week of sessions by room, rooms and teams."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.accounts.models import Area
from community.accounts.permissions import authorize_or_403, can, visible_areas, visible_or_404
from community.core import events
from community.core.forms import EmptyForm, choices
from community.core.htmx import answered, render, submit
from community.core.once import once
from community.core.pagination import parse_page
from community.core.validators import read_date
from community.extensions import db
from community.mediation import bp, queries, services
from community.mediation.forms import (
    LABELS,
    AcceptForm,
    BookForm,
    CaseForm,
    FollowupForm,
    MemberForm,
    ObjectionForm,
    OutcomeForm,
    RoomForm,
    SearchForm,
    SessionRecordForm,
    WeekForm,
)
from community.mediation.models import MediationCase
from community.mediation.permissions import room_setup_scope
from community.places.permissions import visible_sites


def _case_or_404(case_id: int) -> MediationCase:
    return visible_or_404(queries.get_case(db.session, case_id), "mediation.view")


@bp.route("/")
@login_required
def index():
    authorize_or_403("nav.mediation")
    form = SearchForm(request.args)
    form.validate()
    page = queries.list_cases(
        db.session,
        current_user,
        q=form.q.data or "" if not form.q.errors else "",
        status=form.status.data or "",
        page=parse_page(request.args.get("page")),
    )
    return render(
        "mediation/index.html",
        "case_list",
        form=form,
        page=page,
        can_open=can(current_user, "mediation.create"),
        **LABELS,
    )


# --- intake ----------------------------------------------------------------------------


def _fill_case_choices(form: CaseForm) -> None:
    areas = db.session.scalars(visible_areas(current_user))
    form.area_id.choices = choices((a.id, a.name) for a in areas)
    sites = db.session.scalars(visible_sites(current_user).order_by("name").limit(300))
    form.site_id.choices = choices([(0, "—"), *((s.id, s.name) for s in sites)])


def _site(site_id: int | None):
    if not site_id:
        return None
    return db.session.scalars(visible_sites(current_user).filter_by(id=site_id)).first()


@bp.route("/new", methods=["GET", "POST"])
@login_required
@once
def new():
    authorize_or_403("mediation.create")
    form = CaseForm()
    _fill_case_choices(form)

    def page(status: int = 200, conflict=None):
        return render(
            "mediation/new.html", "case_form", status=status, form=form, conflict=conflict, **LABELS
        )

    if request.method == "GET":
        # From a site's page: its area and the site chosen already.
        form.site_id.data = request.args.get("site_id", 0, type=int) or 0
        form.area_id.data = request.args.get("area_id", None, type=int)
        return page()
    return submit(
        form,
        lambda: services.open_case(db.session, current_user, _case_input(form)),
        page=page,
        message=lambda case: _("Case %(number)s opened.", number=case.number),
        location=lambda case: url_for("mediation.show", case_id=case.id),
        trigger=events.MEDIATION_OPENED,
    )


def _case_input(form: CaseForm) -> services.CaseInput:
    return services.CaseInput(
        kind=form.kind.data,
        source=form.source.data,
        area=db.session.get(Area, form.area_id.data),
        summary=form.summary.data,
        risk=form.risk.data,
        amount=form.amount.data,
        site=_site(form.site_id.data),
        parties=[services.PartyInput(**row.data) for row in form.parties],
    )


# --- the case page ---------------------------------------------------------------------


def _case_page(case: MediationCase, *, status: int = 200, conflict=None, revealed=None, **forms):
    ctx = queries.case_context(db.session, current_user, case)
    return render(
        "mediation/show.html",
        "case_body",
        status=status,
        trigger=forms.pop("trigger", None),
        conflict=conflict,
        revealed=revealed or {},
        case=case,
        **ctx,
        **queries.case_forms(db.session, case, ctx, forms),
        **LABELS,
    )


@bp.route("/<int:case_id>")
@login_required
def show(case_id: int):
    return _case_page(_case_or_404(case_id))


def _step(case_id: int, action: str, form, call, message: str, form_name: str):
    """One step on the case page: 404 outside the scope, 403 without the right, then
    the service call; the case body answers in place (422/409 inline)."""
    case = _case_or_404(case_id)
    authorize_or_403(action, case)
    if form is not None:
        queries.fill_step_choices(db.session, case, form_name, form)
    return submit(
        form if form is not None else EmptyForm(),
        lambda: call(case),
        page=lambda status, conflict=None: _case_page(
            _case_or_404(case_id), status=status, conflict=conflict, **{form_name: form}
        ),
        message=message,
        location=url_for("mediation.show", case_id=case_id),
        fragment=lambda _r: _case_page(_case_or_404(case_id), trigger=events.MEDIATION_CHANGED),
    )


@bp.route("/<int:case_id>/accept", methods=["POST"])
@login_required
def accept(case_id: int):
    form = AcceptForm()
    return _step(
        case_id,
        "mediation.accept",
        form,
        lambda case: services.accept_case(
            db.session,
            current_user,
            case,
            services.Assignment(
                form.lead_mediator_id.data,
                tuple(form.other_ids.data or ()),
                form.confirm_reason.data,
            ),
        ),
        _("Case accepted; the mediators are told."),
        "accept_form",
    )


@bp.route("/<int:case_id>/objection", methods=["POST"])
@login_required
def objection(case_id: int):
    form = ObjectionForm()
    return _step(
        case_id,
        "mediation.object",
        form,
        lambda case: services.record_objection(
            db.session,
            current_user,
            case,
            queries.party_of(db.session, case, form.party_id.data),
            queries.mediator_of(db.session, case, form.mediator_id.data),
            form.reason.data,
        ),
        _("Objection recorded."),
        "objection_form",
    )


@bp.route("/<int:case_id>/sessions", methods=["POST"])
@login_required
@once
def book(case_id: int):
    form = BookForm()
    return _step(
        case_id,
        "mediation.work",
        form,
        lambda case: services.book_session(
            db.session,
            current_user,
            case,
            services.Booking(
                queries.get_room(db.session, form.room_id.data),
                form.mediator_id.data,
                form.starts_at.data,
                form.ends_at.data,
            ),
        ),
        _("Session booked."),
        "book_form",
    )


def _session_step(session_id: int, form, call, message: str):
    row = queries.get_session(db.session, session_id)
    if row is None:
        abort(404)
    case = _case_or_404(row.case_id)
    return _step(case.id, "mediation.work", form, lambda _case: call(row), message, "record_form")


@bp.route("/sessions/<int:session_id>/record", methods=["POST"])
@login_required
def record_session(session_id: int):
    form = SessionRecordForm()
    return _session_step(
        session_id,
        form,
        lambda row: services.record_session(db.session, current_user, row, form.notes.data),
        _("Session recorded."),
    )


@bp.route("/sessions/<int:session_id>/cancel", methods=["POST"])
@login_required
def cancel_session(session_id: int):
    return _session_step(
        session_id,
        None,
        lambda row: services.cancel_session(db.session, current_user, row),
        _("Session cancelled."),
    )


@bp.route("/<int:case_id>/outcome", methods=["POST"])
@login_required
def outcome(case_id: int):
    form = OutcomeForm()
    return _step(
        case_id,
        "mediation.work",
        form,
        lambda case: services.conclude_case(
            db.session,
            current_user,
            case,
            services.Outcome(
                form.outcome.data,
                terms=form.terms.data,
                settled_amount=form.settled_amount.data,
                payment_schedule=form.payment_schedule.data,
                referral=form.referral.data or None,
                reason=form.reason.data,
            ),
        ),
        _("Outcome recorded."),
        "outcome_form",
    )


@bp.route("/<int:case_id>/followup", methods=["POST"])
@login_required
def followup(case_id: int):
    form = FollowupForm()
    return _step(
        case_id,
        "mediation.work",
        form,
        lambda case: services.record_followup(
            db.session,
            current_user,
            case,
            performed=bool(form.performed.data),
            satisfied=bool(form.satisfied.data),
            note=form.note.data,
        ),
        _("Follow-up recorded."),
        "followup_form",
    )


@bp.route("/<int:case_id>/close", methods=["POST"])
@login_required
def close(case_id: int):
    return _step(
        case_id,
        "mediation.work",
        None,
        lambda case: services.close_case(db.session, current_user, case),
        _("Case closed."),
        "close_form",
    )


@bp.route("/<int:case_id>/parties/<int:party_id>/reveal", methods=["POST"])
@login_required
def reveal(case_id: int, party_id: int):
    """A party's full phone and document number, once, in this answer only; the
    audit event records who looked."""
    case = _case_or_404(case_id)
    authorize_or_403("mediation.reveal", case)
    party = queries.party_of(db.session, case, party_id)
    if party is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    phone, number = services.reveal_party(db.session, current_user, case, party)
    return answered(_case_page(case, revealed={party.id: (phone, number)}))


@bp.route("/<int:case_id>/agreement")
@login_required
def agreement(case_id: int):
    """The printable 人民调解协议书 (A4): the parties, the terms, signature lines."""
    case = _case_or_404(case_id)
    if case.outcome != "agreement":
        abort(404)
    return render(
        "mediation/agreement.html",
        case=case,
        parties=queries.parties(db.session, case),
        mediators=queries.mediators(db.session, case),
        **LABELS,
    )


# --- my cases, the week ------------------------------------------------------------------


@bp.route("/mine")
@login_required
def mine():
    authorize_or_403("nav.mediation.mine")
    return render("mediation/mine.html", cases=queries.my_cases(db.session, current_user), **LABELS)


@bp.route("/week")
@login_required
def week():
    authorize_or_403("mediation.week")
    form = WeekForm(request.args)
    day, _message = read_date(form.week.data or "") if form.validate() else (None, None)
    start = queries.week_start(day)
    return render(
        "mediation/week.html",
        "week_grid",
        form=form,
        start=start,
        rows=queries.week_sessions(db.session, current_user, start),
        days=queries.week_days(start),
        prev_week=start - timedelta(days=7),
        next_week=start + timedelta(days=7),
        **LABELS,
    )


# --- rooms and teams -------------------------------------------------------------------


def _setup_areas():
    return db.session.scalars(visible_areas(current_user).where(room_setup_scope(current_user)))


@bp.route("/rooms")
@login_required
def rooms():
    authorize_or_403("nav.mediation")
    return render(
        "mediation/rooms.html",
        rooms=queries.rooms(db.session, current_user),
        teams=queries.teams(db.session, room_setup_scope(current_user)),
        can_set_up=can(current_user, "mediation.rooms"),
        **LABELS,
    )


def _room_input(form: RoomForm) -> services.RoomInput:
    return services.RoomInput(
        name=form.name.data,
        area=db.session.get(Area, form.area_id.data),
        address=form.address.data,
        kind=form.kind.data,
        opens=form.opens.data,
        closes=form.closes.data,
        active=bool(form.active.data),
    )


def _room_form_page(form: RoomForm, room=None):
    form.area_id.choices = choices((a.id, a.name) for a in _setup_areas())

    def page(status: int = 200, conflict=None):
        return render(
            "mediation/room_form.html",
            "room_form",
            status=status,
            form=form,
            room=room,
            conflict=conflict,
        )

    if request.method == "GET":
        return page()
    return submit(
        form,
        lambda: services.save_room(db.session, current_user, _room_input(form), room),
        page=page,
        message=_("Room saved."),
        location=url_for("mediation.rooms"),
        trigger=events.ROOM_SAVED,
    )


@bp.route("/rooms/new", methods=["GET", "POST"])
@login_required
def new_room():
    authorize_or_403("mediation.rooms")
    return _room_form_page(RoomForm())


@bp.route("/rooms/<int:mediation_room_id>/edit", methods=["GET", "POST"])
@login_required
def edit_room(mediation_room_id: int):
    room = visible_or_404(queries.get_room(db.session, mediation_room_id), "mediation.room.edit")
    form = RoomForm(obj=room) if request.method == "GET" else RoomForm()
    return _room_form_page(form, room)


def _team_page(team, *, status: int = 200, conflict=None, form=None):
    return render(
        "mediation/team.html",
        "team_members",
        status=status,
        team=team,
        members=queries.members(db.session, team),
        can_edit=can(current_user, "mediation.team.edit", team),
        form=form or MemberForm(formdata=None),
        conflict=conflict,
        **LABELS,
    )


@bp.route("/teams/<int:team_id>")
@login_required
def team(team_id: int):
    return _team_page(visible_or_404(queries.get_team(db.session, team_id), "mediation.team.view"))


@bp.route("/teams/<int:team_id>/members", methods=["POST"])
@login_required
def add_member(team_id: int):
    team = visible_or_404(queries.get_team(db.session, team_id), "mediation.team.view")
    authorize_or_403("mediation.team.edit", team)
    form = MemberForm()
    return submit(
        form,
        lambda: services.add_member(
            db.session,
            current_user,
            team,
            queries.user_named(db.session, form.username.data),
            form.position.data,
            form.category.data,
        ),
        page=lambda status, conflict=None: _team_page(
            team, status=status, conflict=conflict, form=form
        ),
        message=_("Member added."),
        location=url_for("mediation.team", team_id=team.id),
        fragment=lambda _m: _team_page(team),
        trigger=events.MEMBER_ADDED,
    )
