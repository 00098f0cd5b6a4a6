"""Duty pages: the week list with one-tap claims, the duty page (route walked,
reports), publishing and editing, the on-duty page, my duties, the calendar, the
leaderboard and a volunteer's record."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.accounts.auth import safe_next
from community.accounts.models import Area, Organization, User
from community.accounts.permissions import authorize_or_403, can, visible_or_404
from community.core import events, timeutil
from community.core.errors import RuleViolation
from community.core.forms import EmptyForm, choices
from community.core.htmx import render, submit
from community.core.once import once
from community.core.validators import read_month
from community.duty import bp, offline_views, queries, services, track_queries
from community.duty.forms import (
    CHECK_OUT_FIELDS,
    LABELS,
    CancelDutyForm,
    CheckOutForm,
    DutyFilterForm,
    DutyForm,
    EditDutyForm,
    MonthForm,
    RejectForm,
    VisitForm,
)
from community.duty.models import DutyClaim, DutyTask
from community.duty.panels import duty_panels
from community.duty.permissions import decidable_reports
from community.extensions import db


def _task_or_404(task_id: int) -> DutyTask:
    return visible_or_404(queries.get_task(db.session, task_id), "duty.view")


def _claim_or_404(claim_id: int) -> DutyClaim:
    return visible_or_404(queries.get_claim(db.session, claim_id), "claim.view")


def _back(default: str) -> str:
    return safe_next(request.form.get("next")) or default


# --- the list and the card ------------------------------------------------------------


def _claim_context(tasks: list[DutyTask]) -> dict:
    """What each card shows before any tap: the user's claim and the actions the
    claim rule allows now (queries.DutyActions per task)."""
    return {
        "card_actions": queries.card_actions(db.session, current_user, tasks),
        "cancel_hours": current_app.config["DUTY_CANCEL_HOURS"],
    }


def _card_context(task: DutyTask) -> dict:
    return {
        "task": task,
        "waiting": queries.waiting_counts(db.session, [task.id]),
        **_claim_context([task]),
    }


def _card(task: DutyTask, *, status: int = 200, conflict=None, offer_wait=False, trigger=None):
    """The duty page, or only its card for htmx (places left, my claim, the buttons)."""
    return render(
        "duty/show.html",
        "duty_card",
        status=status,
        trigger=trigger,
        conflict=conflict,
        offer_wait=offer_wait,
        **_card_context(task),
        **_show_context(task),
        **LABELS,
    )


@bp.route("/")
@login_required
def index():
    authorize_or_403("nav.duties")
    form = DutyFilterForm(request.args)
    form.validate()
    day = form.day.data if not form.day.errors else None
    start = day or queries.week_start(form.week.data if not form.week.errors else None)
    days = 1 if day else 7
    tasks = queries.list_duties(
        db.session,
        current_user,
        start=start,
        days=days,
        kind=form.kind.data if not form.kind.errors else "",
        free_only=bool(form.free.data),
    )
    ids = [t.id for t in tasks]
    return render(
        "duty/index.html",
        "duty_list",
        form=form,
        start=start,
        days=days,
        grouped=queries.by_day(tasks, start, days),
        waiting=queries.waiting_counts(db.session, ids),
        **_claim_context(tasks),
        can_publish=can(current_user, "duty.create"),
        mine=queries.my_duties(db.session, current_user)
        if can(current_user, "nav.duties.mine")
        else None,
        prev_week=start - timedelta(days=7),
        next_week=start + timedelta(days=7),
        **LABELS,
    )


def _linked(claims) -> set[int]:
    """The claimants whose record the user may open: only these names are links."""
    return queries.openable_records(db.session, current_user, [c.volunteer_id for c in claims])


def _show_context(task: DutyTask) -> dict:
    manages = can(current_user, "duty.manage", task)
    claims = queries.task_claims(db.session, task) if manages else []
    return {
        "panels": duty_panels(db.session, current_user, task),
        "manages": manages,
        "can_cancel_duty": manages and task.status == "published",
        "claims": claims,
        "decidable": decidable_reports(current_user, claims),
        "linked": _linked(claims),
        "checkpoint_names": queries.checkpoint_names(task),
        "time_flags": services.claim_flags(db.session, [c.id for c in claims]),
        "routes": track_queries.routes_for(db.session, claims, queries.checkpoint_names(task)),
        "reject_form": RejectForm(formdata=None),
    }


@bp.route("/<int:task_id>")
@login_required
def show(task_id: int):
    return _card(_task_or_404(task_id))


def _place_action(task_id: int, step, message: str, trigger: str):
    """Claim, join the waiting list or cancel: 404 outside the scope, 403 for a role
    that may not, 409 with the reason inline (the card as it is after the rollback;
    a full duty offers its waiting list), else the card in place (htmx) or a 303 back."""
    task = _task_or_404(task_id)
    authorize_or_403("duty.claim", task)

    def page(status: int, conflict=None, offer_wait: bool = False):
        return _card(_task_or_404(task_id), status=status, conflict=conflict, offer_wait=offer_wait)

    # Without JavaScript the list (its filters and week kept) comes back at this card.
    back = _back(url_for("duty.show", task_id=task.id)).split("#")[0].rstrip("?")
    return submit(
        None,
        lambda: step(task),
        page=page,
        conflict_page=lambda exc: page(
            409, exc.message, offer_wait=isinstance(exc, services.DutyFull)
        ),
        message=message,
        location=f"{back}#duty-card-{task.id}",
        fragment=lambda _claim: _card(task, trigger=trigger),
    )


@bp.route("/<int:task_id>/claim", methods=["POST"])
@login_required
def claim(task_id: int):
    return _place_action(
        task_id,
        lambda t: services.claim_duty(db.session, current_user, t),
        _("Duty claimed."),
        events.DUTY_CLAIMED,
    )


@bp.route("/<int:task_id>/wait", methods=["POST"])
@login_required
def wait(task_id: int):
    return _place_action(
        task_id,
        lambda t: services.join_waiting_list(db.session, current_user, t),
        _("You are on the waiting list."),
        events.DUTY_CLAIMED,
    )


@bp.route("/<int:task_id>/cancel", methods=["POST"])
@login_required
def cancel(task_id: int):
    return _place_action(
        task_id,
        lambda t: services.cancel_claim(db.session, current_user, t),
        _("Claim cancelled."),
        events.DUTY_CANCELLED,
    )


# --- publish, edit, cancel the duty -------------------------------------------------------


def _bind_choices(form: DutyForm) -> None:
    areas = queries.list_publishing_areas(db.session, current_user)
    form.area_id.choices = choices((a.id, a.name) for a in areas)
    teams = queries.publishable_teams(db.session, current_user)
    form.team_id.choices = choices(
        [(0, _("Every volunteer of the area")), *((t.id, t.name) for t in teams)]
    )


def _input(form: DutyForm) -> services.DutyInput:
    to_utc = timeutil.to_utc
    return services.DutyInput(
        title=form.title.data or "",
        kind=form.kind.data,
        area=db.session.get(Area, form.area_id.data) if form.area_id.data else None,
        starts_at=to_utc(form.starts_at.data) if form.starts_at.data else None,
        ends_at=to_utc(form.ends_at.data) if form.ends_at.data else None,
        capacity=form.capacity.data,
        points=form.points.data,
        checkpoints=form.checkpoints.data or "",
        repeat_weeks=form.repeat_weeks.data or 0,
        team=db.session.get(Organization, form.team_id.data) if form.team_id.data else None,
    )


def _form_page(form, task=None, *, status=200, conflict=None):
    return render(
        "duty/form.html",
        "duty_form",
        form=form,
        task=task,
        status=status,
        conflict=conflict,
        **LABELS,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
@once
def new():
    authorize_or_403("duty.create")
    form = DutyForm()
    _bind_choices(form)
    if request.method == "GET":
        return _form_page(form)
    return submit(
        form,
        lambda: services.publish_duty(db.session, current_user, _input(form)),
        page=lambda **kw: _form_page(form, **kw),
        message=lambda tasks: (
            _("Duty published.")
            if len(tasks) == 1
            else _("%(num)d duties published (weekly).", num=len(tasks))
        ),
        location=lambda tasks: url_for("duty.show", task_id=tasks[0].id),
        trigger=events.DUTY_PUBLISHED,
    )


@bp.route("/<int:task_id>/edit", methods=["GET", "POST"])
@login_required
def edit(task_id: int):
    task = _task_or_404(task_id)
    authorize_or_403("duty.manage", task)
    if request.method == "GET":
        form = EditDutyForm(obj=task)
        form.starts_at.data = timeutil.to_local(task.starts_at)
        form.ends_at.data = timeutil.to_local(task.ends_at)
        form.checkpoints.data = "\n".join(services.checkpoint_line(c) for c in task.checkpoints)
        form.team_id.data = task.team_id or 0
    else:
        form = EditDutyForm()
    _bind_choices(form)
    if request.method == "GET":
        return _form_page(form, task)
    return submit(
        form,
        lambda: services.edit_duty(
            db.session, current_user, task, _input(form), rest=form.scope.data == "rest"
        ),
        page=lambda **kw: _form_page(form, task, **kw),
        message=_("Duty saved."),
        location=url_for("duty.show", task_id=task.id),
        trigger=events.DUTY_CHANGED,
    )


@bp.route("/<int:task_id>/delete", methods=["POST"])
@login_required
def delete(task_id: int):
    """Cancel the duty (and optionally the rest of its series); claimants are told."""
    task = _task_or_404(task_id)
    authorize_or_403("duty.manage", task)
    form = CancelDutyForm()
    return submit(
        form,
        lambda: services.cancel_duty(
            db.session, current_user, task, rest=form.scope.data == "rest"
        ),
        page=lambda status, conflict=None: _card(
            _task_or_404(task_id), status=status, conflict=conflict
        ),
        message=_("Duty cancelled; the volunteers who claimed it were notified."),
        location=url_for("duty.show", task_id=task.id),
        fragment=lambda _n: _card(task, trigger=events.DUTY_CANCELLED),
    )


# --- on duty ------------------------------------------------------------------------


def _on_duty(claim: DutyClaim, *, status: int = 200, conflict=None, trigger=None, form=None):
    task = claim.task
    out = form or CheckOutForm(formdata=None)
    out.hazard_site_id.choices = choices(
        [
            (0, _("No hazard")),
            *((s.id, s.name) for s in queries.hazard_sites(db.session, current_user, task)),
        ]
    )
    return render(
        "duty/claim.html",
        "on_duty",
        claim=claim,
        task=task,
        # Back to the volunteer's own list; a coordinator (who has none) to the duty.
        back=(url_for("duty.mine"), _("My duties"))
        if can(current_user, "nav.duties.mine")
        else (url_for("duty.show", task_id=task.id), task.title),
        visits=queries.visits_by_checkpoint(claim),
        route=track_queries.routes_for(db.session, [claim], queries.checkpoint_names(task)).get(
            claim.id
        ),
        track_days=current_app.config["TRACK_RETENTION_DAYS"],
        actions=queries.claim_actions(current_user, claim),
        checkin_opens=services.check_in_opens(task),
        checkout_form=out,
        visit_form=VisitForm(formdata=None),
        status=status,
        conflict=conflict,
        trigger=trigger,
        **LABELS,
    )


# The on-duty page as other duty modules answer with it (track_views).
on_duty_page = _on_duty


@bp.route("/claims/<int:claim_id>")
@login_required
def claim_page(claim_id: int):
    return _on_duty(_claim_or_404(claim_id))


def _claim_step(claim: DutyClaim, step, message: str, trigger: str, form=None):
    """An on-duty step (check in, tick, check out) of the claim's own volunteer: 403
    for anyone else, 422 with the (check-out) form, 409 with the reason inline, else
    the on-duty block in place (htmx) or a 303 back to it. The answers re-read the
    claim (after the step, or after the rollback of a refused one)."""
    authorize_or_403("claim.act", claim)
    claim_id = claim.id
    return submit(
        form,
        lambda: step(claim),
        page=lambda status, conflict=None: _on_duty(
            _claim_or_404(claim_id), status=status, conflict=conflict, form=form
        ),
        message=message,
        location=url_for("duty.claim_page", claim_id=claim_id),
        fragment=lambda _result: _on_duty(_claim_or_404(claim_id), trigger=trigger),
    )


def _keyed_step(
    claim: DutyClaim, action: str, step, message: str, trigger: str, *, form=None, fields=()
):
    """An on-duty step that may come from the phone's queue (static/js/offline.js)
    with an idempotency key and the phone's times: applied once per key
    (services.offline.apply_once). Without a key (no JavaScript) it is today's step.
    The queue's own requests get JSON (offline_views.queue_answer); htmx and plain
    forms the on-duty page as _claim_step gives it."""
    keyed = offline_views.keyed_request(claim, action, fields)
    if keyed is None:
        return _claim_step(claim, lambda c: step(c, None), message, trigger, form=form)
    authorize_or_403("claim.act", claim)
    run = keyed.runner(db.session, current_user, claim, step)
    if keyed.from_queue:
        return offline_views.queue_answer(run, form)
    return _claim_step(claim, run, message, trigger, form=form)


@bp.route("/claims/<int:claim_id>/check-in", methods=["POST"])
@login_required
def check_in(claim_id: int):
    return _keyed_step(
        _claim_or_404(claim_id),
        "check_in",
        lambda c, at: services.check_in(db.session, current_user, c, at=at),
        _("Checked in. Have a safe duty."),
        events.DUTY_CHECKED_IN,
    )


@bp.route("/claims/<int:claim_id>/checkpoints/<int:checkpoint_id>", methods=["POST"])
@login_required
def visit(claim_id: int, checkpoint_id: int):
    claim = _claim_or_404(claim_id)
    checkpoint = next((c for c in claim.task.checkpoints if c.id == checkpoint_id), None)
    if checkpoint is None:
        abort(404)
    form = VisitForm()
    form.validate()
    lat = form.lat.data if not form.lat.errors else None
    lon = form.lon.data if not form.lon.errors else None
    return _keyed_step(
        claim,
        "visit",
        lambda c, at: services.visit_checkpoint(
            db.session, current_user, c, checkpoint, lat=lat, lon=lon, at=at
        ),
        _("Checkpoint ticked: %(name)s", name=checkpoint.name),
        events.DUTY_CHECKED_IN,
        fields=[("checkpoint", str(checkpoint.id)), ("lat", str(lat)), ("lon", str(lon))],
    )


@bp.route("/claims/<int:claim_id>/check-out", methods=["POST"])
@login_required
@once
def check_out(claim_id: int):
    claim = _claim_or_404(claim_id)
    authorize_or_403("claim.act", claim)
    form = CheckOutForm()
    sites = {s.id: s for s in queries.hazard_sites(db.session, current_user, claim.task)}
    form.hazard_site_id.choices = choices([(0, ""), *((i, s.name) for i, s in sites.items())])

    def step(claim: DutyClaim, at) -> DutyClaim:
        hazards = []
        if (form.hazard_description.data or "").strip():
            site = sites.get(form.hazard_site_id.data)
            if site is None:
                raise RuleViolation("hazard_site_id", _("Choose the site of the hazard."))
            photo = form.hazard_photo.data
            hazards.append(
                services.HazardInput(
                    form.hazard_description.data,
                    form.hazard_severity.data,
                    site,
                    photo.stream if photo else None,
                )
            )
        return services.check_out(db.session, current_user, claim, form.report.data, hazards, at=at)

    return _keyed_step(
        claim,
        "check_out",
        step,
        _("Report sent. Thank you!"),
        events.DUTY_REPORTED,
        form=form,
        fields=offline_views.form_fields(CHECK_OUT_FIELDS, photo="hazard_photo"),
    )


# --- reports and decisions ---------------------------------------------------------------


def _report(claim: DutyClaim, *, status: int = 200, conflict=None, trigger=None, form=None):
    return render(
        "duty/reports.html",
        "report_row",
        claim=claim,
        pending=[claim],
        decidable=decidable_reports(current_user, [claim]),
        linked=_linked([claim]),
        reject_form=form or RejectForm(formdata=None),
        status=status,
        conflict=conflict,
        trigger=trigger,
        **LABELS,
    )


@bp.route("/reports")
@login_required
def reports():
    authorize_or_403("duty.reports")
    pending = queries.list_pending_reports(db.session, current_user)
    return render(
        "duty/reports.html",
        "report_list",
        pending=pending,
        decidable=decidable_reports(current_user, pending),
        linked=_linked(pending),
        reject_form=RejectForm(formdata=None),
        **LABELS,
    )


def _decide(claim_id: int, form, step, message: str):
    claim = _claim_or_404(claim_id)
    authorize_or_403("claim.decide", claim)
    return submit(
        form,
        lambda: step(claim),
        page=lambda status, conflict=None: _report(
            claim, status=status, conflict=conflict, form=form if status == 422 else None
        ),
        message=message,
        location=_back(url_for("duty.reports")),
        fragment=lambda _c: _report(claim, trigger=events.DUTY_DECIDED),
    )


@bp.route("/claims/<int:claim_id>/approve", methods=["POST"])
@login_required
def approve(claim_id: int):
    return _decide(
        claim_id,
        EmptyForm(),
        lambda c: services.approve_report(db.session, current_user, c),
        _("Report approved; points awarded."),
    )


@bp.route("/claims/<int:claim_id>/reject", methods=["POST"])
@login_required
def reject(claim_id: int):
    form = RejectForm()
    return _decide(
        claim_id,
        form,
        lambda c: services.reject_report(db.session, current_user, c, form.reason.data),
        _("Report returned."),
    )


# --- mine, calendar, leaderboard, record -------------------------------------------------


@bp.route("/mine")
@login_required
def mine():
    authorize_or_403("nav.duties.mine")
    return render(
        "duty/mine.html",
        "my_duties",
        mine=queries.my_duties(db.session, current_user),
        **LABELS,
    )


@bp.route("/calendar")
@login_required
def calendar():
    authorize_or_403("nav.duties")
    form = DutyFilterForm(request.args)
    form.validate()
    start = queries.week_start(form.week.data if not form.week.errors else None)
    tasks = queries.list_duties(
        db.session,
        current_user,
        start=start,
        statuses=("published", "cancelled", "done"),
        upcoming_only=False,
    )
    return render(
        "duty/calendar.html",
        "calendar",
        start=start,
        grouped=queries.by_day(tasks, start),
        prev_week=start - timedelta(days=7),
        next_week=start + timedelta(days=7),
        **LABELS,
    )


def _month(value: str | None) -> date:
    """The month YYYY-MM asked for; this month for anything else."""
    return read_month(value) or timeutil.today().replace(day=1)


@bp.route("/leaderboard")
@login_required
def leaderboard():
    authorize_or_403("nav.duties")
    form = MonthForm(request.args)
    areas = queries.list_leaderboard_areas(db.session, current_user)
    form.area_id.choices = choices([(0, _("All my areas")), *((a.id, a.name) for a in areas)])
    form.validate()
    area = next((a for a in areas if a.id == form.area_id.data), None)
    month = _month(form.month.data)
    by = "team" if form.by.data == "team" else "volunteer"
    rows = queries.leaderboard(db.session, current_user, month, by=by, area=area)
    # A name links to the volunteer's record only where the record would open.
    keys = [r.key for r in rows] if by == "volunteer" else []
    return render(
        "duty/leaderboard.html",
        "leaderboard",
        month=month,
        by=by,
        rows=rows,
        linked=queries.openable_records(db.session, current_user, keys),
        form=form,
        area_id=area.id if area else None,
        prev_month=(month - timedelta(days=1)).strftime("%Y-%m"),
        next_month=(month + timedelta(days=32)).strftime("%Y-%m"),
    )


@bp.route("/volunteers/<int:volunteer_id>")
@login_required
def record(volunteer_id: int):
    volunteer = visible_or_404(db.session.get(User, volunteer_id), "duty.record")
    return render(
        "duty/record.html",
        "record",
        volunteer=volunteer,
        record=queries.volunteer_record(db.session, current_user, volunteer),
        **LABELS,
    )
