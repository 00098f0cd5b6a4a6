"""Site, building and room pages, QR posters, the public plaque and association membership."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from community.accounts.models import Area, Organization
from community.accounts.permissions import authorize_or_403, can, visible_or_404
from community.core import events
from community.core.forms import EmptyForm, choices
from community.core.htmx import is_partial, render, submit
from community.core.once import once
from community.core.urls import public_url
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
from community.places.panels import building_panels, site_columns, site_panels
from community.places.permissions import registers_company_sites
from community.places.qr import qr_svg

# Template globals the places fragments rely on (so each block renders alone).
bp.add_app_template_global(SITE_KIND_LABELS, "site_kind_labels")
bp.add_app_template_global(APPLICATION_STATUS_LABELS, "application_status_labels")
bp.add_app_template_global(queries.is_shuangwu, "is_shuangwu")


# --- sites -----------------------------------------------------------------------


@bp.route("/sites/")
@login_required
def index():
    filters = queries.SiteFilters.from_args(request.args)
    page = queries.list_sites(db.session, current_user, filters)
    return render(
        "places/index.html",
        "results",
        page=page,
        columns=site_columns(db.session, current_user, page.items),
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
    enterprises = queries.enterprise_choices(db.session, current_user)
    if site is not None:
        if site.area_id not in {a.id for a in areas}:
            areas.append(site.area)
        if site.company is not None and site.company_id not in {c.id for c in companies}:
            companies.append(site.company)
        if site.association is not None and site.association_id not in {a.id for a in associations}:
            associations.append(site.association)
        if site.enterprise is not None and site.enterprise_id not in {e.id for e in enterprises}:
            enterprises.append(site.enterprise)
    none = [("", _("(none)"))]
    form.area_id.choices = choices([("", "")] + [(a.id, _area_label(a)) for a in areas])
    form.company_id.choices = choices(none + [(c.id, c.name) for c in companies])
    form.association_id.choices = choices(
        none + [(a.id, f"{a.name} · {a.area.name}") for a in associations]
    )
    form.enterprise_id.choices = choices(none + [(e.id, e.name) for e in enterprises])


def _preselect_single(form: SiteForm) -> None:
    """A choice with one option is made already: a landlord's one community, the one
    association they are a member of (the optional company stays theirs to pick)."""
    for name in ("area_id", "association_id"):
        options = [c.value for c in form[name].choices if c.value]
        if len(options) == 1 and not form[name].data:
            form[name].data = options[0]


def _site_data(form: SiteForm) -> dict:
    return {name: form[name].data for name in services.SITE_FIELDS}


def _site_form_page(form: SiteForm, site: Site | None, status: int = 200, conflict=None):
    return render(
        "places/form.html",
        "site_form",
        form=form,
        site=site,
        names_landlord=can(current_user, "site.name_landlord"),
        status=status,
    )


@bp.route("/sites/new", methods=["GET", "POST"])
@login_required
@once
def new():
    authorize_or_403("site.create")
    form = SiteForm()
    _fill_choices(form)
    if request.method == "GET":
        if registers_company_sites(current_user):
            # A property manager registers the compounds their company runs.
            form.kind.data = "compound"
            form.company_id.data = next((c.value for c in form.company_id.choices if c.value), None)
        _preselect_single(form)
        return _site_form_page(form, None)
    return submit(
        form,
        lambda: services.create_site(db.session, current_user, **_site_data(form)),
        page=lambda **kw: _site_form_page(form, None, **kw),
        message=_("Site registered."),
        location=lambda site: url_for("places.show", site_id=site.id),
    )


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@login_required
def edit(site_id: int):
    site = queries.get_site_or_404(site_id)
    authorize_or_403("site.edit", site)
    form = SiteForm(obj=site, landlord_username=site.landlord.username if site.landlord else "")
    _fill_choices(form, site)
    if request.method == "GET":
        return _site_form_page(form, site)
    return submit(
        form,
        lambda: services.update_site(db.session, current_user, site, **_site_data(form)),
        page=lambda **kw: _site_form_page(form, site, **kw),
        message=_("Site saved."),
        location=url_for("places.show", site_id=site_id),
    )


def _site_page(
    site: Site,
    form: BuildingForm,
    status: int = 200,
    trigger=None,
    conflict=None,
    block: str = "buildings",
):
    return render(
        "places/show.html",
        block,
        site=site,
        buildings=queries.list_buildings(db.session, site),
        building_form=form,
        can_edit=can(current_user, "site.edit", site),
        can_manage=can(current_user, "site.manage_rooms", site),
        can_poster=can(current_user, "site.poster", site),
        panels=[] if is_partial() else site_panels(db.session, current_user, site),
        status=status,
        trigger=trigger,
    )


@bp.route("/sites/<int:site_id>")
@login_required
def show(site_id: int):
    return _site_page(queries.get_site_or_404(site_id), BuildingForm(formdata=None))


@bp.route("/sites/<int:site_id>/status")
@login_required
def status(site_id: int):
    """The site's stars and badges (the page header), refreshed in place when an
    incident or an inspection changes them; the whole site page without htmx."""
    return _site_page(
        queries.get_site_or_404(site_id), BuildingForm(formdata=None), block="site_status"
    )


@bp.route("/sites/<int:site_id>/buildings", methods=["POST"])
@login_required
@once
def add_building(site_id: int):
    site = queries.get_site_or_404(site_id)
    authorize_or_403("site.manage_rooms", site)
    form = BuildingForm()
    return submit(
        form,
        lambda: services.add_building(db.session, current_user, site, form.name.data),
        page=lambda **kw: _site_page(site, form, **kw),
        message=_("Building added."),
        location=url_for("places.show", site_id=site_id),
        fragment=lambda _b: _site_page(
            site, BuildingForm(formdata=None), trigger=events.BUILDING_ADDED
        ),
    )


# --- buildings and rooms ---------------------------------------------------------


def _building_or_404(building_id: int):
    return visible_or_404(queries.get_building(db.session, building_id), "building.view")


def _building_page(
    building,
    form: RoomForm,
    status: int = 200,
    trigger=None,
    conflict=None,
    block: str = "rooms",
):
    site = building.site
    rooms = queries.list_rooms(db.session, building)
    show_panels = block == "panels" or not is_partial()
    return render(
        "places/building.html",
        block,
        building=building,
        site=site,
        rooms=rooms,
        panels=building_panels(db.session, current_user, building, rooms) if show_panels else [],
        room_form=form,
        can_manage=can(current_user, "site.manage_rooms", site),
        status=status,
        trigger=trigger,
    )


@bp.route("/buildings/<int:building_id>")
@login_required
def building(building_id: int):
    return _building_page(_building_or_404(building_id), RoomForm(formdata=None))


@bp.route("/buildings/<int:building_id>/panels", endpoint="building_panels")
@login_required
def building_panels_view(building_id: int):
    """The building page's panels (the residents against the head counts), refreshed
    in place when a room is added or changed; the whole page without htmx."""
    return _building_page(_building_or_404(building_id), RoomForm(formdata=None), block="panels")


@bp.route("/buildings/<int:building_id>/rooms", methods=["POST"])
@login_required
@once
def add_room(building_id: int):
    target = _building_or_404(building_id)
    authorize_or_403("site.manage_rooms", target.site)
    form = RoomForm()
    return submit(
        form,
        lambda: services.add_room(
            db.session,
            current_user,
            target,
            number=form.number.data,
            beds=form.beds.data,
            occupants=form.occupants.data,
        ),
        page=lambda **kw: _building_page(target, form, **kw),
        message=_("Room added."),
        location=url_for("places.building", building_id=building_id),
        fragment=lambda _r: _building_page(
            target, RoomForm(formdata=None), trigger=events.ROOM_ADDED
        ),
    )


def _room_edit_row(room, form, status: int = 200, conflict=None):
    return render(
        "places/room_edit.html",
        "room_edit_row",
        room=room,
        building=room.building,
        site=room.building.site,
        form=form,
        status=status,
    )


@bp.route("/rooms/<int:room_id>/edit", methods=["GET", "POST"])
@login_required
def edit_room(room_id: int):
    room = visible_or_404(queries.get_room(db.session, room_id), "room.view")
    authorize_or_403("site.manage_rooms", room.building.site)
    form = RoomEditForm(obj=room)
    if request.method == "GET":
        return _room_edit_row(room, form)
    return submit(
        form,
        lambda: services.update_room(
            db.session,
            current_user,
            room,
            number=form.number.data,
            beds=form.beds.data,
            occupants=form.occupants.data,
        ),
        page=lambda **kw: _room_edit_row(room, form, **kw),
        message=_("Room saved."),
        location=url_for("places.building", building_id=room.building_id),
        fragment=lambda _r: render(
            "places/building.html",
            "room_row",
            room=room,
            can_manage=True,
            trigger=events.ROOM_SAVED,
        ),
    )


# --- QR codes, poster and plaque ---------------------------------------------------


@bp.route("/sites/<int:site_id>/poster")
@login_required
def poster(site_id: int):
    site = queries.get_site_or_404(site_id)
    authorize_or_403("site.poster", site)
    # /declare/<token> belongs to the residents package (the tenant's self-declaration).
    declare_url = public_url(f"/declare/{site.qr_token}")
    plaque_url = public_url(url_for("places.plaque", token=site.qr_token))
    return render(
        "places/poster.html",
        site=site,
        declare_url=declare_url,
        plaque_url=plaque_url,
        declare_qr=qr_svg(declare_url) if declare_url else None,
        plaque_qr=qr_svg(plaque_url) if plaque_url else None,
        can_rotate=can(current_user, "site.rotate_token", site),
        rotate_form=EmptyForm(),
    )


@bp.route("/sites/<int:site_id>/token", methods=["POST"])
@login_required
def rotate_token(site_id: int):
    site = queries.get_site_or_404(site_id)
    authorize_or_403("site.rotate_token", site)
    return submit(
        EmptyForm(),
        lambda: services.rotate_token(db.session, current_user, site),
        page=lambda **kw: abort(400),
        message=_("New QR codes made: the old poster no longer works. Print this one."),
        location=url_for("places.poster", site_id=site_id),
    )


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
    applies = can(current_user, "association.apply")
    officer_of = _officer_associations()
    if not applies and not officer_of:
        abort(403)
    context: dict = {"is_landlord": applies, "officer_of": officer_of, "message": message}
    if applies:
        associations = queries.associations_for_landlord(db.session, current_user)
        applications = queries.applications_of(db.session, current_user)
        latest: dict[int, AssociationApplication] = {}
        for application in applications:  # newest first
            latest.setdefault(application.association_id, application)
        # Apply (again) where nothing is pending or approved: services.apply_to_association
        # refuses those, a declined application may be followed by a new one.
        may_apply = {
            a.id for a in associations if a.id not in latest or latest[a.id].status == "declined"
        }
        forms = {a.id: ApplyForm(formdata=None) for a in associations}
        if apply_form is not None:
            forms[apply_form[0]] = apply_form[1]
        context.update(
            associations=associations, latest=latest, may_apply=may_apply, apply_forms=forms
        )
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
    # One answer (404) for every refusal: an id that is no association, a user who is
    # no landlord, an association of another community — ids reveal nothing.
    association = db.session.get(Organization, association_id)
    if association is None or not can(current_user, "association.apply", association):
        abort(404)
    if association.id not in {
        a.id for a in queries.associations_for_landlord(db.session, current_user)
    }:
        abort(404)
    form = ApplyForm()
    return submit(
        form,
        lambda: services.apply_to_association(
            db.session, current_user, association, form.note.data
        ),
        page=lambda status, conflict=None: _associations_page(
            "landlord", status=status, apply_form=(association_id, form), message=conflict
        ),
        message=_("Application sent to %(name)s.", name=association.name),
        location=url_for("places.associations"),
        fragment=lambda _a: _associations_page("landlord", trigger=events.ASSOCIATION_APPLIED),
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
    return submit(
        form,
        lambda: services.decide_application(
            db.session, current_user, application, form.decision.data, form.reason.data
        ),
        page=lambda status, conflict=None: _associations_page(
            "officer", status=status, decision_form=(application_id, form), message=conflict
        ),
        message=_("Decision saved."),
        location=url_for("places.associations"),
        fragment=lambda _a: _associations_page("officer", trigger=events.APPLICATION_DECIDED),
    )
