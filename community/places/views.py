"""Site, building and room pages, QR posters, the public plaque and association membership."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from community.accounts.models import Area, Organization
from community.accounts.permissions import can
from community.core.errors import Conflict, NotPermitted, RuleViolation
from community.core.forms import EmptyForm, apply_violation, choices
from community.core.htmx import is_partial, redirect_after_post, render, saved
from community.core.once import once
from community.extensions import db, limiter
from community.places import bp, queries, services
from community.places.forms import (
    APPLICATION_STATUS_LABELS,
    SITE_KIND_LABELS,
    ApplyForm,
    BuildingForm,
    DecisionForm,
    RoomEditForm,
    RoomForm,
    SiteForm,
)
from community.places.models import AssociationApplication, Site
from community.places.panels import site_panels
from community.places.qr import qr_svg

# Ids in URLs: larger numbers cannot be rows (PostgreSQL integer) and answer 404, not 500.

# Template globals the places fragments rely on (so each block renders alone).
bp.add_app_template_global(SITE_KIND_LABELS, "site_kind_labels")
bp.add_app_template_global(APPLICATION_STATUS_LABELS, "application_status_labels")
bp.add_app_template_global(queries.is_shuangwu, "is_shuangwu")


def _site_or_404(site_id: int, action: str = "site.view") -> Site:
    """The site if the user may see it (else 404) and take `action` on it (else 403)."""
    site = queries.get_site(db.session, site_id)
    if site is None or not can(current_user, "site.view", site):
        abort(404)
    if action != "site.view" and not can(current_user, action, site):
        abort(403)
    return site


# --- sites -----------------------------------------------------------------------


@bp.route("/sites/")
@login_required
def index():
    filters = queries.SiteFilters.from_args(request.args)
    return render(
        "places/index.html",
        "results",
        page=queries.list_sites(db.session, current_user, filters),
        filters=filters,
        areas=queries.community_choices(db.session, current_user),
        can_create=can(current_user, "site.create"),
    )


def _area_label(area: Area) -> str:
    return f"{area.name} · {area.parent.name}" if area.parent else area.name


def _fill_choices(form: SiteForm, site: Site | None = None) -> None:
    """Offer what the user may pick, plus the site's current values (kept unchanged)."""
    areas = queries.community_choices(db.session, current_user)
    companies = queries.company_choices(db.session, current_user)
    associations = queries.association_choices(db.session, current_user)
    if site is not None:
        if site.area_id not in {a.id for a in areas}:
            areas.append(site.area)
        if site.company is not None and site.company_id not in {c.id for c in companies}:
            companies.append(site.company)
        if site.association is not None and site.association_id not in {a.id for a in associations}:
            associations.append(site.association)
    form.area_id.choices = choices([("", "")] + [(a.id, _area_label(a)) for a in areas])
    form.company_id.choices = choices([("", _("(none)"))] + [(c.id, c.name) for c in companies])
    form.association_id.choices = choices(
        [("", _("(none)"))] + [(a.id, f"{a.name} · {a.area.name}") for a in associations]
    )


def _site_data(form: SiteForm) -> dict:
    return {
        "name": form.name.data,
        "kind": form.kind.data,
        "area_id": form.area_id.data,
        "address": form.address.data,
        "association_id": form.association_id.data,
        "company_id": form.company_id.data,
        "landlord_username": form.landlord_username.data,
    }


def _site_form_page(form: SiteForm, site: Site | None):
    return render(
        "places/form.html",
        "site_form",
        form=form,
        site=site,
        names_landlord=can(current_user, "site.name_landlord"),
        status=422 if form.errors else 200,
    )


@bp.route("/sites/new", methods=["GET", "POST"])
@login_required
@once
def new():
    if not can(current_user, "site.create"):
        abort(403)
    form = SiteForm()
    _fill_choices(form)
    if request.method == "GET" and services.is_manager_only(current_user):
        # A property manager registers the compounds their company runs.
        form.kind.data = "compound"
        form.company_id.data = next((c.value for c in form.company_id.choices if c.value), None)
    if form.validate_on_submit():
        try:
            site = services.create_site(db.session, current_user, **_site_data(form))
        except RuleViolation as exc:
            apply_violation(form, exc)
        else:
            db.session.commit()
            flash(_("Site registered."), "success")
            return redirect(url_for("places.show", site_id=site.id), code=303)
    return _site_form_page(form, None)


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@login_required
def edit(site_id: int):
    site = _site_or_404(site_id, "site.edit")
    form = SiteForm(obj=site, landlord_username=site.landlord.username if site.landlord else "")
    _fill_choices(form, site)
    if form.validate_on_submit():
        try:
            services.update_site(db.session, current_user, site, **_site_data(form))
        except RuleViolation as exc:
            apply_violation(form, exc)
        else:
            db.session.commit()
            flash(_("Site saved."), "success")
            return redirect(url_for("places.show", site_id=site_id), code=303)
    return _site_form_page(form, site)


def _site_page(site: Site, form: BuildingForm, status: int = 200, trigger=None):
    partial = is_partial()
    return render(
        "places/show.html",
        "buildings",
        site=site,
        buildings=queries.list_buildings(db.session, site),
        building_form=form,
        can_edit=can(current_user, "site.edit", site),
        can_manage=can(current_user, "site.manage_rooms", site),
        can_poster=can(current_user, "site.poster", site),
        panels=[] if partial else site_panels(db.session, current_user, site),
        status=status,
        trigger=trigger,
    )


@bp.route("/sites/<int:site_id>")
@login_required
def show(site_id: int):
    return _site_page(_site_or_404(site_id), BuildingForm(formdata=None))


@bp.route("/sites/<int:site_id>/buildings", methods=["POST"])
@login_required
@once
def add_building(site_id: int):
    site = _site_or_404(site_id, "site.manage_rooms")
    form = BuildingForm()
    if form.validate_on_submit():
        try:
            services.add_building(db.session, current_user, site, form.name.data)
        except RuleViolation as exc:
            apply_violation(form, exc)
        else:
            db.session.commit()
            return saved(
                _("Building added."),
                url_for("places.show", site_id=site_id),
                lambda: _site_page(
                    _site_or_404(site_id), BuildingForm(formdata=None), trigger="building-added"
                ),
            )
    return _site_page(site, form, status=422)


# --- buildings and rooms ---------------------------------------------------------


def _building_or_404(building_id: int, action: str = "site.view"):
    building = queries.get_building(db.session, building_id)
    if building is None:
        abort(404)
    _check_site(building.site, action)
    return building


def _check_site(site: Site, action: str) -> None:
    if not can(current_user, "site.view", site):
        abort(404)
    if action != "site.view" and not can(current_user, action, site):
        abort(403)


def _building_page(building, form: RoomForm, status: int = 200, trigger=None):
    site = building.site
    return render(
        "places/building.html",
        "rooms",
        building=building,
        site=site,
        rooms=building.rooms,
        room_form=form,
        can_manage=can(current_user, "site.manage_rooms", site),
        status=status,
        trigger=trigger,
    )


@bp.route("/buildings/<int:building_id>")
@login_required
def building(building_id: int):
    return _building_page(_building_or_404(building_id), RoomForm(formdata=None))


@bp.route("/buildings/<int:building_id>/rooms", methods=["POST"])
@login_required
@once
def add_room(building_id: int):
    target = _building_or_404(building_id, "site.manage_rooms")
    form = RoomForm()
    if form.validate_on_submit():
        try:
            services.add_room(
                db.session,
                current_user,
                target,
                number=form.number.data,
                beds=form.beds.data,
                occupants=form.occupants.data,
            )
        except RuleViolation as exc:
            apply_violation(form, exc)
        else:
            db.session.commit()
            return saved(
                _("Room added."),
                url_for("places.building", building_id=building_id),
                lambda: _building_page(
                    _building_or_404(building_id), RoomForm(formdata=None), trigger="room-added"
                ),
            )
    return _building_page(target, form, status=422)


@bp.route("/rooms/<int:room_id>/edit", methods=["GET", "POST"])
@login_required
def edit_room(room_id: int):
    room = queries.get_room(db.session, room_id)
    if room is None:
        abort(404)
    _check_site(room.building.site, "site.manage_rooms")
    form = RoomEditForm(obj=room)
    if form.validate_on_submit():
        try:
            services.update_room(
                db.session,
                current_user,
                room,
                number=form.number.data,
                beds=form.beds.data,
                occupants=form.occupants.data,
            )
        except RuleViolation as exc:
            apply_violation(form, exc)
        else:
            db.session.commit()
            return saved(
                _("Room saved."),
                url_for("places.building", building_id=room.building_id),
                lambda: render(
                    "places/building.html",
                    "room_row",
                    room=room,
                    can_manage=True,
                    trigger="room-saved",
                ),
            )
    return render(
        "places/room_edit.html",
        "room_edit_row",
        room=room,
        building=room.building,
        site=room.building.site,
        form=form,
        status=422 if form.errors else 200,
    )


# --- QR codes, poster and plaque ---------------------------------------------------


def _declare_url(token: str) -> str:
    # /declare/<token> belongs to the residents package; until it exists the
    # poster still prints the address it will answer at.
    from flask import current_app

    if "residents.declare" in current_app.view_functions:
        return url_for("residents.declare", token=token, _external=True)
    return request.url_root + "declare/" + token


@bp.route("/sites/<int:site_id>/poster")
@login_required
def poster(site_id: int):
    site = _site_or_404(site_id, "site.poster")
    declare_url = _declare_url(site.qr_token)
    plaque_url = url_for("places.plaque", token=site.qr_token, _external=True)
    return render(
        "places/poster.html",
        site=site,
        declare_url=declare_url,
        plaque_url=plaque_url,
        declare_qr=qr_svg(declare_url),
        plaque_qr=qr_svg(plaque_url),
        can_rotate=can(current_user, "site.rotate_token", site),
        rotate_form=EmptyForm(),
    )


@bp.route("/sites/<int:site_id>/token", methods=["POST"])
@login_required
def rotate_token(site_id: int):
    site = _site_or_404(site_id, "site.rotate_token")
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.rotate_token(db.session, current_user, site)
    db.session.commit()
    flash(_("New QR codes made: the old poster no longer works. Print this one."), "success")
    return redirect_after_post(url_for("places.poster", site_id=site_id))


@bp.route("/plaque/<token>")
@limiter.exempt
def plaque(token: str):
    site = queries.get_site_by_token(db.session, token)
    if site is None:
        abort(404)
    return render("places/plaque.html", site=site)


# --- landlord associations ------------------------------------------------------------


def _officer_associations() -> list[Organization]:
    ids = queries.officer_association_ids(db.session, current_user)
    if not ids:
        return []
    orgs = db.session.scalars(
        select(Organization).where(Organization.id.in_(ids)).order_by(Organization.name)
    )
    return [o for o in orgs if can(current_user, "association.view_members", o)]


def _associations_page(
    block: str | None = None,
    *,
    status: int = 200,
    trigger=None,
    apply_form: tuple[int, ApplyForm] | None = None,
    decision_form: tuple[int, DecisionForm] | None = None,
    message: str | None = None,
):
    is_landlord = can(current_user, "association.apply")
    officer_of = _officer_associations()
    if not is_landlord and not officer_of:
        abort(403)
    context: dict = {"is_landlord": is_landlord, "officer_of": officer_of, "message": message}
    if is_landlord:
        associations = queries.associations_for_landlord(db.session, current_user)
        applications = queries.applications_of(db.session, current_user)
        latest: dict[int, AssociationApplication] = {}
        for application in applications:  # newest first
            latest.setdefault(application.association_id, application)
        forms = {a.id: ApplyForm(formdata=None) for a in associations}
        if apply_form is not None:
            forms[apply_form[0]] = apply_form[1]
        context.update(associations=associations, latest=latest, apply_forms=forms)
    if officer_of:
        ids = [o.id for o in officer_of]
        pending = queries.pending_applications(db.session, ids)
        forms = {a.id: DecisionForm(formdata=None) for a in pending}
        if decision_form is not None:
            forms[decision_form[0]] = decision_form[1]
        context.update(
            pending=pending, decision_forms=forms, members=queries.list_members(db.session, ids)
        )
    return render("places/associations.html", block, status=status, trigger=trigger, **context)


@bp.route("/associations/")
@login_required
def associations():
    return _associations_page()


@bp.route("/associations/<int:association_id>/apply", methods=["POST"])
@login_required
@once
def apply_association(association_id: int):
    association = db.session.get(Organization, association_id)
    if association is None or association.kind != "landlord_association":
        abort(404)
    if not can(current_user, "association.apply", association):
        abort(403)
    if association.id not in {
        a.id for a in queries.associations_for_landlord(db.session, current_user)
    }:
        abort(404)
    form = ApplyForm()
    if not form.validate_on_submit():
        return _associations_page("landlord", status=422, apply_form=(association_id, form))
    try:
        services.apply_to_association(db.session, current_user, association, form.note.data)
    except NotPermitted:
        abort(403)
    except Conflict as exc:
        return _associations_page("landlord", status=409, message=exc.message)
    db.session.commit()
    return saved(
        _("Application sent to %(name)s.", name=association.name),
        url_for("places.associations"),
        lambda: _associations_page("landlord", trigger="association-applied"),
    )


@bp.route("/associations/applications/<int:application_id>/decide", methods=["POST"])
@login_required
def decide_application(application_id: int):
    application = db.session.get(AssociationApplication, application_id)
    if application is None:
        abort(404)
    if not can(current_user, "association.decide", application):
        abort(403 if application.landlord_id == current_user.id else 404)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            services.decide_application(
                db.session, current_user, application, form.decision.data, form.reason.data
            )
        except RuleViolation as exc:
            apply_violation(form, exc)
        except Conflict as exc:
            return _associations_page("officer", status=409, message=exc.message)
        else:
            db.session.commit()
            return saved(
                _("Decision saved."),
                url_for("places.associations"),
                lambda: _associations_page("officer", trigger="application-decided"),
            )
    return _associations_page("officer", status=422, decision_form=(application_id, form))
