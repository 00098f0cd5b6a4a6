"""Safety-admission inspections: start one, tick the checklist in place, complete it;
the re-inspection due list; record an incident at a site."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.accounts.permissions import authorize_or_403, can, visible_or_404
from community.core import events
from community.core.errors import Conflict, RuleViolation
from community.core.forms import EmptyForm, OnceForm
from community.core.htmx import render, saved, submit
from community.core.once import once
from community.core.pagination import parse_page
from community.extensions import db
from community.inspections import bp, queries, services
from community.inspections.forms import RESULT_LABELS, IncidentForm, ResultForm
from community.inspections.models import Inspection
from community.inspections.panels import incidents_panel
from community.places import queries as places
from community.places.models import Site


def _inspection_or_404(inspection_id: int) -> Inspection:
    return visible_or_404(queries.get_inspection(db.session, inspection_id), "inspection.view")


def _show_page(
    inspection: Inspection,
    block: str = "summary",
    *,
    row=None,
    forms=None,
    status: int = 200,
    trigger=None,
    conflict: str | None = None,
    conflict_item: int | None = None,
):
    rows = queries.checklist_rows(db.session, inspection)
    return render(
        "inspections/show.html",
        block,
        inspection=inspection,
        rows=rows,
        row=row,
        summary=services.summarize(rows),
        forms=forms or {},
        answer_form=lambda row: ResultForm(formdata=None, obj=row.result),
        can_record=inspection.status == "open"
        and can(current_user, "inspection.record", inspection),
        complete_form=EmptyForm(formdata=None),
        conflict=conflict,
        conflict_item=conflict_item,
        result_labels=RESULT_LABELS,
        status=status,
        trigger=trigger,
    )


@bp.route("/sites/<int:site_id>/inspections", methods=["POST"])
@login_required
@once
def new(site_id: int):
    site = places.get_site_or_404(site_id)
    authorize_or_403("inspection.create", site)
    return submit(
        OnceForm(),
        lambda: services.start_inspection(db.session, current_user, site),
        page=lambda **kw: abort(400),
        message=_("Inspection started."),
        location=lambda inspection: url_for("inspections.show", inspection_id=inspection.id),
    )


@bp.route("/inspections/<int:inspection_id>")
@login_required
def show(inspection_id: int):
    """The checklist page; for htmx (the summary listening to INSPECTION_CHANGED)
    the summary block."""
    return _show_page(_inspection_or_404(inspection_id))


@bp.route("/inspections/<int:inspection_id>/items/<int:item_id>", methods=["POST"])
@login_required
def record_item(inspection_id: int, item_id: int):
    inspection = _inspection_or_404(inspection_id)
    item = queries.get_item(db.session, item_id)
    if item is None:
        abort(404)
    authorize_or_403("inspection.record", inspection)
    form = ResultForm()

    def item_page(status: int = 200, conflict=None, trigger=None):
        rows = {r.item.id: r for r in queries.checklist_rows(db.session, inspection)}
        bound = {item.id: form} if status == 422 else None
        return _show_page(
            inspection,
            "item_row",
            row=rows[item.id],
            forms=bound,
            status=status,
            conflict=conflict,
            conflict_item=item.id,
            trigger=trigger,
        )

    return submit(
        form,
        lambda: services.record_result(
            db.session, current_user, inspection, item, form.result.data, form.note.data
        ),
        page=item_page,
        message=_("Answer saved."),
        location=url_for("inspections.show", inspection_id=inspection.id) + f"#item-{item.id}",
        fragment=lambda _answer: item_page(trigger=events.INSPECTION_CHANGED),
    )


@bp.route("/inspections/<int:inspection_id>/complete", methods=["POST"])
@login_required
def complete(inspection_id: int):
    inspection = _inspection_or_404(inspection_id)
    authorize_or_403("inspection.record", inspection)
    if not EmptyForm().validate_on_submit():
        abort(400)
    location = url_for("inspections.show", inspection_id=inspection_id)
    try:
        services.complete_inspection(db.session, current_user, inspection)
    except RuleViolation as exc:
        return _show_page(inspection, conflict=exc.message, status=422)
    except Conflict as exc:
        return _show_page(inspection, conflict=exc.message, status=409)
    if inspection.passed:
        message = _("Inspection completed: passed. The site is admitted.")
    else:
        message = _("Inspection completed: failed. The site is not admitted.")
    # The address bar must not stay on /complete (a reload would POST): land on the
    # inspection page (303, or HX-Location for htmx).
    return saved(message, location, trigger=events.INSPECTION_COMPLETED)


@bp.route("/inspections/due")
@login_required
def due():
    authorize_or_403("inspection.list_due")
    page = queries.list_due(db.session, current_user, page=parse_page(request.args.get("page")))
    return render(
        "inspections/due.html",
        "due_list",
        page=page,
        cadence=queries.cadence_table(),
        due_soon_days=queries.DUE_SOON_DAYS,
    )


def _incident_page(site: Site, form: IncidentForm, *, status: int = 200, trigger=None, **_kw):
    return render(
        "inspections/incident.html",
        "incidents_panel",
        site=site,
        panel=incidents_panel(db.session, current_user, site, form=form),
        status=status,
        trigger=trigger,
    )


@bp.route("/sites/<int:site_id>/incidents", methods=["POST"])
@login_required
@once
def add_incident(site_id: int):
    site = places.get_site_or_404(site_id)
    authorize_or_403("incident.create", site)
    form = IncidentForm()
    return submit(
        form,
        lambda: services.record_incident(
            db.session,
            current_user,
            site,
            kind=form.kind.data,
            occurred_on=form.occurred_on.data,
            note=form.note.data,
        ),
        page=lambda **kw: _incident_page(site, form, **kw),
        message=_("Incident recorded."),
        location=url_for("places.show", site_id=site.id),
        fragment=lambda _i: _incident_page(
            site, IncidentForm(formdata=None), trigger=events.INCIDENT_RECORDED
        ),
    )
