"""Hazard pages: report at a site, the list, the detail with its workflow actions,
the photo, and the hazards panel on the site page."""

from __future__ import annotations

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.accounts.permissions import can
from community.core import uploads
from community.core.errors import Conflict, RuleViolation
from community.core.forms import EmptyForm, apply_violation, choices
from community.core.htmx import is_partial, redirect_after_post, render, saved
from community.core.once import once
from community.core.pagination import parse_page
from community.core.validators import is_id
from community.extensions import db
from community.places.models import Site
from community.places.panels import Panel, register_site_panel
from community.ratings import hazards_bp as bp
from community.ratings.forms.hazards import (
    SEVERITY_LABELS,
    STATUS_FILTERS,
    STATUS_LABELS,
    TAB_LABELS,
    FixForm,
    HazardFilterForm,
    HazardForm,
    ReopenForm,
)
from community.ratings.models import Hazard
from community.ratings.services import hazards as services

# Ids in URLs: larger numbers cannot be rows (PostgreSQL integer) and answer 404, not 500.
LABELS = {"severity_labels": SEVERITY_LABELS, "status_labels": STATUS_LABELS}


def _common() -> dict:
    """Context every hazard template gets: labels, and whether the site page exists
    (places may register it later than this module)."""
    return {
        **LABELS,
        "has_site_page": "places.show" in current_app.view_functions,
        "photo_max_mb": f"{uploads.max_bytes() / (1024 * 1024):g}",
    }


def _visible_site(site_id: int) -> Site:
    site = db.session.get(Site, site_id) if is_id(site_id) else None
    if site is None or not can(current_user, "site.view", site):
        abort(404)
    return site


def _visible_hazard(hazard_id: int) -> Hazard:
    hazard = services.get_hazard(db.session, hazard_id)
    if hazard is None or not can(current_user, "site.view", hazard.site):
        abort(404)
    return hazard


@bp.route("/sites/<int:site_id>/hazards/new", methods=["GET", "POST"])
@login_required
@once
def new(site_id: int):
    site = _visible_site(site_id)
    if not can(current_user, "hazard.create", site):
        abort(403)
    form = HazardForm()
    if form.validate_on_submit():
        try:
            hazard = services.report_hazard(
                db.session,
                current_user,
                site,
                description=form.description.data,
                severity=form.severity.data,
                photo=form.photo.data.stream if form.photo.data else None,
            )
        except RuleViolation as exc:
            apply_violation(form, exc)
        else:
            db.session.commit()
            if not is_partial():
                flash(_("Hazard reported."), "success")
            return redirect_after_post(
                url_for("hazards.show", hazard_id=hazard.id), trigger=services.EVENT_CHANGED
            )
    return render(
        "ratings/hazards_new.html",
        "hazard_form",
        site=site,
        form=form,
        status=422 if form.errors or form.form_errors else 200,
        **_common(),
    )


@bp.route("/hazards/")
@login_required
def index():
    tabs = services.tabs_for(current_user)
    form = HazardFilterForm(request.args)
    form.tab.choices = choices((t, TAB_LABELS[t]) for t in tabs)
    tab = form.tab.data if form.tab.data in tabs else tabs[0]
    status = form.status.data if form.status.data in STATUS_FILTERS else ""
    page = parse_page(request.args.get("page"))
    form.tab.data, form.status.data = tab, status
    site = _visible_site(form.site.data) if form.site.data else None
    result = services.list_hazards(
        db.session, current_user, tab=tab, status=status, page=page, site=site
    )
    return render(
        "ratings/hazards_index.html",
        "hazard_list",
        form=form,
        tabs=tabs,
        tab=tab,
        status_filter=status,
        result=result,
        tab_labels=TAB_LABELS,
        site_filter=site,
        **_common(),
    )


def _card(hazard: Hazard, *, status: int = 200, trigger=None, conflict=None, **forms):
    """The hazard page, or only its card for htmx: details, history and the actions
    the user may take now."""
    user = current_user
    open_, fixed = hazard.status == "open", hazard.status == "fixed"
    actions = {
        "fix": open_ and can(user, "hazard.fix", hazard),
        "close": fixed and can(user, "hazard.close", hazard),
        "reopen": fixed and can(user, "hazard.reopen", hazard),
    }
    return render(
        "ratings/hazards_show.html",
        "hazard_card",
        hazard=hazard,
        history=services.history(db.session, hazard),
        actions=actions,
        fix_form=forms.get("fix_form") or FixForm(formdata=None),
        reopen_form=forms.get("reopen_form") or ReopenForm(formdata=None),
        close_form=EmptyForm(formdata=None),
        conflict=conflict,
        status=status,
        trigger=trigger,
        **_common(),
    )


@bp.route("/hazards/<int:hazard_id>")
@login_required
def show(hazard_id: int):
    return _card(_visible_hazard(hazard_id))


@bp.route("/hazards/<int:hazard_id>/photo")
@login_required
def photo(hazard_id: int):
    hazard = _visible_hazard(hazard_id)
    if not hazard.photo:
        abort(404)
    return uploads.send(hazard.photo)


def _act(hazard_id: int, permission: str, form, step, message: str, form_name: str):
    """Shared shape of fix/close/reopen: scope 404, role 403, input 422, state 409,
    then the card in place (htmx) or a 303 to the hazard page."""
    hazard = _visible_hazard(hazard_id)
    if not can(current_user, permission, hazard):
        abort(403)
    if not form.validate_on_submit():
        return _card(hazard, status=422, **{form_name: form})
    try:
        step(hazard, form)
    except RuleViolation as exc:
        apply_violation(form, exc)
        return _card(hazard, status=422, **{form_name: form})
    except Conflict as exc:
        return _card(hazard, status=409, conflict=exc.message)
    db.session.commit()
    return saved(
        message,
        url_for("hazards.show", hazard_id=hazard.id),
        lambda: _card(hazard, trigger=services.EVENT_CHANGED),
    )


@bp.route("/hazards/<int:hazard_id>/fix", methods=["POST"])
@login_required
def fix(hazard_id: int):
    return _act(
        hazard_id,
        "hazard.fix",
        FixForm(),
        lambda h, f: services.fix_hazard(db.session, current_user, h, f.note.data),
        _("Hazard marked fixed."),
        "fix_form",
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


@register_site_panel
def hazards_panel(session, user, site) -> Panel | None:
    """Open and fixed hazards at the site, and a "report a hazard" link when allowed."""
    if not can(user, "site.view", site):
        return None
    items, count = services.site_hazards(session, site)
    return Panel(
        template="ratings/_panel_hazards.html",
        order=30,
        context={
            "hazards": items,
            "count": count,
            "can_report": can(user, "hazard.create", site),
            **LABELS,
        },
    )
