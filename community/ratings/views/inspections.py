"""Safety-admission inspections, the re-inspection due list, incidents, and their
site-page panels (admission status and history; incidents and the 双无 badge)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from community.accounts.permissions import can
from community.core.errors import Conflict, RuleViolation
from community.core.forms import EmptyForm, OnceForm, apply_violation
from community.core.htmx import is_partial, redirect_after_post, render, saved
from community.core.once import once
from community.core.pagination import parse_page
from community.extensions import db
from community.places.models import Site
from community.places.panels import Panel, register_site_panel
from community.ratings import inspections_bp as bp
from community.ratings.forms.admission import (
    INCIDENT_KIND_LABELS,
    RESULT_LABELS,
    IncidentForm,
    ResultForm,
)
from community.ratings.models import Inspection
from community.ratings.services import admission, incidents

# htmx events (<noun>-<past verb>): the inspection summary listens to INSPECTION_CHANGED.
INSPECTION_CHANGED = "inspection-changed"
INSPECTION_COMPLETED = "inspection-completed"
INCIDENT_RECORDED = "incident-recorded"


@bp.before_request
@login_required
def _logged_in():
    return None


def _lang() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "zh"


def _visible_site(site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None or not can(current_user, "site.view", site):
        abort(404)
    return site


def _visible_inspection(inspection_id: int) -> Inspection:
    inspection = db.session.scalar(
        select(Inspection)
        .where(Inspection.id == inspection_id)
        .options(joinedload(Inspection.site), joinedload(Inspection.inspector))
    )
    if inspection is None or not can(current_user, "site.view", inspection.site):
        abort(404)
    return inspection


def _show_page(
    inspection: Inspection,
    block: str = "summary",
    *,
    row=None,
    forms=None,
    complete_error: str | None = None,
    status: int = 200,
    trigger=None,
):
    rows = admission.checklist_rows(db.session, inspection)
    return render(
        "ratings/inspections_show.html",
        block,
        inspection=inspection,
        rows=rows,
        row=row,
        summary=admission.summarize(rows),
        forms=forms or {},
        can_record=inspection.status == "open"
        and can(current_user, "inspection.record", inspection),
        complete_form=EmptyForm(formdata=None),
        complete_error=complete_error,
        result_labels=RESULT_LABELS,
        lang=_lang(),
        status=status,
        trigger=trigger,
    )


@bp.route("/sites/<int:site_id>/inspections", methods=["POST"])
@once
def new(site_id: int):
    site = _visible_site(site_id)
    if not can(current_user, "inspection.create", site):
        abort(403)
    if not OnceForm().validate_on_submit():
        abort(400)
    inspection = admission.start_inspection(db.session, current_user, site)
    db.session.commit()
    return redirect_after_post(url_for("inspections.show", inspection_id=inspection.id))


@bp.route("/inspections/<int:inspection_id>")
def show(inspection_id: int):
    """The checklist page; for htmx (the summary listening to INSPECTION_CHANGED)
    the summary block."""
    return _show_page(_visible_inspection(inspection_id))


@bp.route("/inspections/<int:inspection_id>/items/<int:item_id>", methods=["POST"])
def record_item(inspection_id: int, item_id: int):
    inspection = _visible_inspection(inspection_id)
    item = admission.get_item(db.session, item_id)
    if item is None:
        abort(404)
    if not can(current_user, "inspection.record", inspection):
        abort(403)
    form = ResultForm()
    if form.validate_on_submit():
        try:
            answer = admission.record_result(
                db.session, current_user, inspection, item, form.result.data, form.note.data
            )
        except Conflict as exc:
            abort(409, description=exc.message)
        except RuleViolation as exc:
            apply_violation(form, exc)
        else:
            db.session.commit()
            if not is_partial():
                url = url_for("inspections.show", inspection_id=inspection.id)
                return redirect(f"{url}#item-{item.id}", code=303)
            return _show_page(
                inspection,
                "item_row",
                row=admission.Row(item, answer),
                trigger=INSPECTION_CHANGED,
            )
    if inspection.status != "open":
        abort(409, description=_("This inspection is completed; its answers can no longer change."))
    rows = {r.item.id: r for r in admission.checklist_rows(db.session, inspection)}
    return _show_page(inspection, "item_row", row=rows[item.id], forms={item.id: form}, status=422)


@bp.route("/inspections/<int:inspection_id>/complete", methods=["POST"])
def complete(inspection_id: int):
    inspection = _visible_inspection(inspection_id)
    if not can(current_user, "inspection.record", inspection):
        abort(403)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        admission.complete_inspection(db.session, current_user, inspection)
    except Conflict as exc:
        abort(409, description=exc.message)
    except RuleViolation as exc:
        return _show_page(inspection, complete_error=exc.message, status=422)
    passed = inspection.passed
    db.session.commit()
    if passed:
        flash(_("Inspection completed: passed. The site is admitted."), "success")
    else:
        flash(_("Inspection completed: failed. The site is not admitted."), "warning")
    return redirect_after_post(
        url_for("inspections.show", inspection_id=inspection_id), trigger=INSPECTION_COMPLETED
    )


@bp.route("/inspections/due")
def due():
    if not can(current_user, "inspection.list_due"):
        abort(403)
    page = admission.list_due(db.session, current_user, page=parse_page(request.args.get("page")))
    return render(
        "ratings/inspections_due.html",
        "due_list",
        page=page,
        due_soon_days=admission.DUE_SOON_DAYS,
    )


@bp.route("/sites/<int:site_id>/incidents", methods=["POST"])
@once
def add_incident(site_id: int):
    site = _visible_site(site_id)
    if not can(current_user, "incident.create", site):
        abort(403)
    form = IncidentForm()
    if form.validate_on_submit():
        try:
            incidents.record_incident(
                db.session,
                current_user,
                site,
                kind=form.kind.data,
                occurred_on=form.occurred_on.data,
                note=form.note.data,
            )
        except RuleViolation as exc:
            apply_violation(form, exc)
        else:
            db.session.commit()
            return saved(
                _("Incident recorded."),
                url_for("places.show", site_id=site.id),
                lambda: _incident_page(
                    site, IncidentForm(formdata=None), trigger=INCIDENT_RECORDED
                ),
            )
    return _incident_page(site, form, status=422)


def _incident_page(site: Site, form: IncidentForm, *, status: int = 200, trigger=None):
    return render(
        "ratings/inspections_incident.html",
        "incidents_panel",
        site=site,
        panel=incidents_panel(db.session, current_user, site, form=form),
        status=status,
        trigger=trigger,
    )


# --- site-page panels --------------------------------------------------------


@register_site_panel
def admission_panel(session, user, site: Site) -> Panel:
    """Admission status, next inspection due, history, and "start inspection"."""
    can_start = can(user, "inspection.create", site)
    return Panel(
        template="ratings/_panel_admission.html",
        order=20,
        context={
            "history": admission.list_history(session, site),
            "open_inspection": admission.get_open_inspection(session, site),
            "next_due": admission.next_due_on(site),
            "due_in": admission.due_in_days(site),
            "can_start": can_start,
            "start_form": OnceForm(formdata=None) if can_start else None,
        },
    )


@register_site_panel
def incidents_panel(session, user, site: Site, *, form: IncidentForm | None = None) -> Panel:
    """The 双无 badge for everyone who sees the site; the incidents of the last years
    for police, coordinators and admins; the record form for the police."""
    can_view = can(user, "incident.view", site)
    can_record = can(user, "incident.create", site)
    return Panel(
        template="ratings/_panel_incidents.html",
        order=25,
        context={
            "badge": incidents.is_shuangwu(site),
            "can_view": can_view,
            "incidents": incidents.list_recent(session, site) if can_view else [],
            "history_years": incidents.HISTORY_YEARS,
            "form": (form or IncidentForm(formdata=None)) if can_record else None,
            "kind_labels": INCIDENT_KIND_LABELS,
        },
    )
