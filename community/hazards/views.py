"""Hazard pages: report at a site, the list, the detail card with its workflow
actions in place, the photo."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.accounts.permissions import authorize_or_403, can, visible_or_404
from community.core import events, uploads
from community.core.forms import EmptyForm, choices
from community.core.htmx import render, submit
from community.core.once import once, reads_first
from community.core.pagination import parse_page
from community.extensions import db
from community.hazards import bp, queries, services
from community.hazards.forms import (
    LABELS,
    STATUS_FILTERS,
    AssignForm,
    FixForm,
    HazardFilterForm,
    HazardForm,
    ReopenForm,
    assignee_choices,
    tab_labels_for,
)
from community.hazards.models import Hazard
from community.hazards.permissions import has_jurisdiction, tabs_for
from community.places import queries as places
from community.places.models import Site

# Past this many people the assign form offers a search (a select of hundreds of
# names is no choice on a phone).
ASSIGNEE_SEARCH_FROM = 12


def _hazard_or_404(hazard_id: int) -> Hazard:
    return visible_or_404(queries.get_hazard(db.session, hazard_id), "hazard.view")


def _form_page(site: Site, form: HazardForm, status: int = 200, conflict=None):
    return render(
        "hazards/new.html",
        "hazard_form",
        site=site,
        form=form,
        photo_max_mb=f"{uploads.max_bytes() / (1024 * 1024):g}",
        status=status,
        **LABELS,
    )


@bp.route("/sites/<int:site_id>/hazards/new", methods=["GET", "POST"])
@login_required
@once
@reads_first
def new(site_id: int):
    site = places.get_site_or_404(site_id)
    authorize_or_403("hazard.create", site)
    form = HazardForm()
    if request.method == "GET":
        return _form_page(site, form)
    # Decode and clean the photo before anything is written (no write lock meanwhile).
    return submit(
        form,
        lambda: services.report_hazard(
            db.session,
            current_user,
            site,
            description=form.description.data,
            severity=form.severity.data,
            photo=form.photo.data.stream if form.photo.data else None,
        ),
        page=lambda **kw: _form_page(site, form, **kw),
        message=(
            _("Hazard reported. Nobody runs this site yet: the police will assign it.")
            if site.landlord_id is None and site.company_id is None
            else _("Hazard reported.")
        ),
        location=lambda hazard: url_for("hazards.show", hazard_id=hazard.id),
        trigger=events.HAZARD_CHANGED,
    )


@bp.route("/hazards/")
@login_required
def index():
    tabs = tabs_for(current_user)
    labels = tab_labels_for(has_jurisdiction(current_user))
    form = HazardFilterForm(request.args)
    form.tab.choices = choices((t, labels[t]) for t in tabs)
    tab = form.tab.data if form.tab.data in tabs else tabs[0]
    status = form.status.data if form.status.data in STATUS_FILTERS else ""
    form.tab.data, form.status.data = tab, status
    site = places.get_site_or_404(form.site.data) if form.site.data else None
    result = queries.list_hazards(
        db.session,
        current_user,
        tab=tab,
        status=status,
        page=parse_page(request.args.get("page")),
        site=site,
    )
    return render(
        "hazards/index.html",
        "hazard_list",
        form=form,
        tabs=tabs,
        tab=tab,
        status_filter=status,
        result=result,
        tab_labels=labels,
        site_filter=site,
        **LABELS,
    )


def _card(
    hazard: Hazard,
    *,
    status: int = 200,
    trigger=None,
    conflict=None,
    block: str = "hazard_card",
    **forms,
):
    """The hazard page, or only its card (or the assign form's list of people) for
    htmx: details, history and the actions the user may take now."""
    user = current_user
    open_, fixed = hazard.status == "open", hazard.status == "fixed"
    actions = {
        "fix": open_ and can(user, "hazard.fix", hazard),
        "assign": open_ and can(user, "hazard.assign", hazard),
        "close": fixed and can(user, "hazard.close", hazard),
        "reopen": fixed and can(user, "hazard.reopen", hazard),
    }
    assign_form = forms.get("assign_form") or AssignForm(formdata=None)
    search = (request.args.get("who") or "").strip()[:80]
    people, people_total = [], 0
    if actions["assign"]:
        people, people_total = services.list_assignees(db.session, user, hazard, search)
        assign_form.assignee.choices = assignee_choices(people)
    return render(
        "hazards/show.html",
        block,
        hazard=hazard,
        photo_max_mb=f"{uploads.max_bytes() / (1024 * 1024):g}",
        people_shown=len(people),
        people_total=people_total,
        people_search=search,
        people_searchable=bool(search) or people_total > ASSIGNEE_SEARCH_FROM,
        history=queries.history(db.session, hazard),
        actions=actions,
        unassigned=services.is_unassigned(hazard),
        fix_form=forms.get("fix_form") or FixForm(formdata=None),
        assign_form=assign_form,
        reopen_form=forms.get("reopen_form") or ReopenForm(formdata=None),
        close_form=EmptyForm(formdata=None),
        conflict=conflict,
        status=status,
        trigger=trigger,
        **LABELS,
    )


@bp.route("/hazards/<int:hazard_id>")
@login_required
def show(hazard_id: int):
    return _card(_hazard_or_404(hazard_id))


@bp.route("/hazards/<int:hazard_id>/assignees")
@login_required
def assignees(hazard_id: int):
    """The assign form's list of people, narrowed by `who` (the page without htmx)."""
    hazard = _hazard_or_404(hazard_id)
    authorize_or_403("hazard.assign", hazard)
    return _card(hazard, block="assignee_field")


@bp.route("/hazards/<int:hazard_id>/photo")
@login_required
def photo(hazard_id: int):
    return _send_photo(hazard_id, "photo")


@bp.route("/hazards/<int:hazard_id>/fix-photo")
@login_required
def fix_photo(hazard_id: int):
    return _send_photo(hazard_id, "fix_photo")


def _send_photo(hazard_id: int, column: str):
    """The report's or the fix's photo, to whoever may see the hazard (404 otherwise)."""
    name = getattr(_hazard_or_404(hazard_id), column)
    if not name:
        abort(404)
    return uploads.send(name)


def _act(hazard_id: int, action: str, form, step, message: str, form_name: str):
    """Shared shape of fix/assign/close/reopen: scope 404, role 403, input 422, state
    409, then the card in place (htmx) or a 303 to the hazard page."""
    hazard = _hazard_or_404(hazard_id)
    authorize_or_403(action, hazard)
    return submit(
        form,
        lambda: step(hazard, form),
        page=lambda status, conflict=None: _card(
            hazard, status=status, conflict=conflict, **{form_name: form}
        ),
        message=message,
        location=url_for("hazards.show", hazard_id=hazard.id),
        fragment=lambda _h: _card(hazard, trigger=events.HAZARD_CHANGED),
    )


@bp.route("/hazards/<int:hazard_id>/fix", methods=["POST"])
@login_required
@reads_first
def fix(hazard_id: int):
    return _act(
        hazard_id,
        "hazard.fix",
        FixForm(),
        lambda h, f: services.fix_hazard(
            db.session,
            current_user,
            h,
            f.note.data,
            photo=f.photo.data.stream if f.photo.data else None,
        ),
        _("Hazard marked fixed."),
        "fix_form",
    )


@bp.route("/hazards/<int:hazard_id>/assign", methods=["POST"])
@login_required
def assign(hazard_id: int):
    return _act(
        hazard_id,
        "hazard.assign",
        AssignForm(),
        lambda h, f: services.assign_hazard(db.session, current_user, h, f.assignee.data),
        _("Hazard assigned."),
        "assign_form",
    )


@bp.route("/hazards/<int:hazard_id>/close", methods=["POST"])
@login_required
def close(hazard_id: int):
    return _act(
        hazard_id,
        "hazard.close",
        EmptyForm(),
        lambda h, f: services.close_hazard(db.session, current_user, h),
        _("Hazard closed."),
        "close_form",
    )


@bp.route("/hazards/<int:hazard_id>/reopen", methods=["POST"])
@login_required
def reopen(hazard_id: int):
    return _act(
        hazard_id,
        "hazard.reopen",
        ReopenForm(),
        lambda h, f: services.reopen_hazard(db.session, current_user, h, f.reason.data),
        _("Hazard reopened."),
        "reopen_form",
    )
