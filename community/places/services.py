"""Places rules: creating and editing sites, buildings and rooms, rotating QR tokens,
and landlords' membership of their community's landlord association.

Services flush, never commit; they raise RuleViolation (shown on a form field,
422), NotPermitted (403) or Conflict (409).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from community.accounts.models import Area, Organization, User
from community.accounts.permissions import can
from community.accounts.services import member_user_ids
from community.core import audit
from community.core.errors import Conflict, NotPermitted, RuleViolation
from community.core.notify import notify, path_for, register_message
from community.core.reviews import require_reason
from community.core.rollups import move_site
from community.core.timeutil import today, utcnow
from community.places import queries, rollups
from community.places.models import (
    MAX_PEOPLE,
    SITE_KINDS,
    AssociationApplication,
    Building,
    Room,
    Site,
    new_qr_token,
)
from community.places.permissions import (
    may_apply_to,
    may_assign_company,
    nameable_landlords,
    owner_for_new_site,
)

# The actions recorded here, named for the audit log.
audit.register_actions(
    {
        "site_created": _l("Site registered"),
        "site_updated": _l("Site changed"),
        "site_token_rotated": _l("Site QR code replaced"),
        "building_added": _l("Building added"),
        "room_added": _l("Room added"),
        "room_updated": _l("Room changed"),
        "association_applied": _l("Applied to join an association"),
        "association_application_approved": _l("Association application approved"),
        "association_application_declined": _l("Association application declined"),
    }
)

# Notice to the association's officers (core.notify): a landlord applied.
APPLICATION_NOTICE = "association-application"
register_message(
    APPLICATION_NOTICE,
    _l("%(landlord)s applied to join %(association)s: approve or decline in the review queue."),
)

# --- sites ------------------------------------------------------------------------


def _required(value: str | None, field: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise RuleViolation(field, _("This field is required."))
    if len(value) > max_length:
        raise RuleViolation(field, _("At most %(n)d characters.", n=max_length))
    return value


def _resolve_area(session: Session, actor: Any, site: Site | None, area_id: int | None) -> Area:
    area = session.get(Area, area_id) if area_id else None
    if area is None or area.level != "community":
        raise RuleViolation("area_id", _("Choose a community."))
    unchanged = site is not None and site.area_id == area.id
    allowed = {a.id for a in queries.community_choices(session, actor)}
    if not unchanged and area.id not in allowed:
        raise RuleViolation("area_id", _("You cannot place a site in this community."))
    return area


def _chosen(
    session: Session,
    actor: Any,
    site: Site | None,
    field: str,
    org_id: int | None,
    kind: str,
    offered: Any,
    messages: tuple[str, str],
) -> Organization | None:
    """The organization of kind `kind` picked in `field`: one the actor is offered
    (`offered(session, actor)`), or the site's current one kept unchanged.
    `messages`: (not an organization of that kind, not one the actor may pick)."""
    if not org_id:
        return None
    org = session.get(Organization, org_id)
    if org is None or org.kind != kind:
        raise RuleViolation(field, messages[0])
    unchanged = site is not None and getattr(site, field) == org.id
    if not unchanged and org.id not in {o.id for o in offered(session, actor)}:
        raise RuleViolation(field, messages[1])
    return org


def _resolve_company(
    session: Session, actor: Any, site: Site | None, company_id: int | None
) -> Organization | None:
    company = _chosen(
        session,
        actor,
        site,
        "company_id",
        company_id,
        "property_company",
        queries.company_choices,
        (_("Choose a property company."), _("You cannot name this company.")),
    )
    if not may_assign_company(actor, company):
        raise RuleViolation("company_id", _("Choose your company: it manages this site."))
    return company


def _resolve_association(
    session: Session, actor: Any, site: Site | None, area: Area, association_id: int | None
) -> Organization | None:
    if association_id:
        association = session.get(Organization, association_id)
        if association is not None and association.area_id != area.id:
            raise RuleViolation(
                "association_id", _("This association belongs to another community.")
            )
    return _chosen(
        session,
        actor,
        site,
        "association_id",
        association_id,
        "landlord_association",
        queries.association_choices,
        (
            _("Choose a landlord association."),
            _("You can only choose an association you are an approved member of."),
        ),
    )


def _resolve_enterprise(
    session: Session, actor: Any, site: Site | None, kind: str, enterprise_id: int | None
) -> Organization | None:
    """A dormitory may name the enterprise whose employees live there (its HR staff
    then see the site); an enterprise of the actor's areas, or the current one."""
    if enterprise_id and kind != "dormitory":
        raise RuleViolation("enterprise_id", _("Only a dormitory belongs to an enterprise."))
    return _chosen(
        session,
        actor,
        site,
        "enterprise_id",
        enterprise_id,
        "enterprise",
        queries.enterprise_choices,
        (_("Choose an enterprise."), _("You cannot name this enterprise.")),
    )


def _resolve_landlord(
    session: Session, actor: Any, site: Site | None, username: str | None
) -> int | None:
    """Police and administrators name the landlord (or none): a landlord of their own
    areas (administrators: any landlord); the site's current landlord may stay. One
    message for every refusal, so the form tells nothing about other districts'
    usernames. A landlord creating a site owns it; anyone else keeps the current owner."""
    if can(actor, "site.name_landlord"):
        username = (username or "").strip()
        if not username:
            return None
        user_id = session.scalar(
            select(User.id).where(func.lower(User.username) == username.lower())
        )
        unchanged = site is not None and user_id is not None and site.landlord_id == user_id
        if user_id is None or not (
            unchanged
            or session.scalar(select(User.id).where(User.id == user_id, nameable_landlords(actor)))
        ):
            raise RuleViolation(
                "landlord_username", _("No landlord of your area has this username.")
            )
        return user_id
    if site is None:
        return owner_for_new_site(actor)
    return site.landlord_id


SITE_FIELDS = {
    "name",
    "kind",
    "area_id",
    "address",
    "association_id",
    "company_id",
    "enterprise_id",
    "landlord_username",
}


def create_site(
    session: Session,
    actor: Any,
    *,
    name: str,
    kind: str,
    area_id: int | None,
    address: str,
    association_id: int | None = None,
    company_id: int | None = None,
    enterprise_id: int | None = None,
    landlord_username: str | None = None,
) -> Site:
    """Registers a site in a community the actor covers. The creating landlord owns it;
    a property manager's site is managed by their company; police and administrators
    may name a landlord. Raises RuleViolation on the offending field."""
    fields = _site_fields(
        session,
        actor,
        None,
        name=name,
        kind=kind,
        area_id=area_id,
        address=address,
        association_id=association_id,
        company_id=company_id,
        enterprise_id=enterprise_id,
        landlord_username=landlord_username,
    )
    site = Site(**fields, created_by_id=getattr(actor, "id", None))
    session.add(site)
    session.flush()
    audit.record(session, actor, "site_created", site, {"name": site.name, "kind": site.kind})
    return site


def update_site(session: Session, actor: Any, site: Site, **data: Any) -> Site:
    """Same fields and rules as create_site; a value the actor could not pick may stay
    unchanged."""
    fields = _site_fields(session, actor, site, **data)
    changed = sorted(k for k, v in fields.items() if getattr(site, k) != v)
    # The area's counters (dashboard figures) follow the site to its new area.
    move_site(session, site.id, site.area_id, fields["area_id"])
    for key, value in fields.items():
        setattr(site, key, value)
    session.flush()
    if changed:
        audit.record(session, actor, "site_updated", site, {"fields": changed})
    return site


def _site_fields(session: Session, actor: Any, site: Site | None, **data: Any) -> dict:
    """The validated columns of a site from the form's fields (see create_site)."""
    unknown = set(data) - SITE_FIELDS
    if unknown:
        raise TypeError(f"unknown site fields: {sorted(unknown)}")
    name = _required(data["name"], "name", 120)
    if data["kind"] not in SITE_KINDS:
        raise RuleViolation("kind", _("Choose a kind of site."))
    area = _resolve_area(session, actor, site, data["area_id"])
    address = _required(data["address"], "address", 255)
    company = _resolve_company(session, actor, site, data.get("company_id"))
    association = _resolve_association(session, actor, site, area, data.get("association_id"))
    landlord_id = _resolve_landlord(session, actor, site, data.get("landlord_username"))
    enterprise = _resolve_enterprise(session, actor, site, data["kind"], data.get("enterprise_id"))
    return {
        "name": name,
        "kind": data["kind"],
        "area_id": area.id,
        "address": address,
        "company_id": company.id if company else None,
        "association_id": association.id if association else None,
        "landlord_id": landlord_id,
        "enterprise_id": enterprise.id if enterprise else None,
    }


def rotate_token(session: Session, actor: Any, site: Site) -> None:
    """A new random QR token: the printed codes with the old one stop working at once."""
    site.qr_token = new_qr_token()
    session.flush()
    audit.record(session, actor, "site_token_rotated", site)


# --- buildings and rooms --------------------------------------------------------


def _flush_unique(session: Session, obj: Any, field: str, message: str) -> None:
    """Flush under a SAVEPOINT: a UNIQUE violation (a concurrent duplicate that slipped
    past the check) becomes the same RuleViolation instead of a failed transaction."""
    try:
        with session.begin_nested():
            session.add(obj)
    except IntegrityError:
        raise RuleViolation(field, message) from None


def add_building(session: Session, actor: Any, site: Site, name: str) -> Building:
    """A building name is unique within its site. Raises RuleViolation("name")."""
    name = _required(name, "name", 60)
    message = _("This site already has a building with this name.")
    taken = session.scalar(
        select(Building.id).where(Building.site_id == site.id, Building.name == name)
    )
    if taken:
        raise RuleViolation("name", message)
    building = Building(site_id=site.id, name=name)
    _flush_unique(session, building, "name", message)
    audit.record(session, actor, "building_added", building, {"site": site.id})
    return building


def _room_values(number: str, beds: Any, occupants: Any) -> tuple[str, int, int]:
    number = _required(number, "number", 30)
    for field, value in (("beds", beds), ("occupants", occupants)):
        if not isinstance(value, int) or not 0 <= value <= MAX_PEOPLE:
            raise RuleViolation(field, _("A number from 0 to %(n)d.", n=MAX_PEOPLE))
    return number, beds, occupants


def _room_number_taken(session: Session, building_id: int, number: str, room_id=None) -> bool:
    stmt = select(Room.id).where(Room.building_id == building_id, Room.number == number)
    if room_id is not None:
        stmt = stmt.where(Room.id != room_id)
    return session.scalar(stmt) is not None


def add_room(
    session: Session, actor: Any, building: Building, *, number: str, beds: int, occupants: int
) -> Room:
    """A room number is unique within its building; the head count is dated today.
    Raises RuleViolation("number"/"beds"/"occupants")."""
    number, beds, occupants = _room_values(number, beds, occupants)
    message = _("This building already has a room with this number.")
    if _room_number_taken(session, building.id, number):
        raise RuleViolation("number", message)
    room = Room(
        building_id=building.id,
        number=number,
        beds=beds,
        occupants=occupants,
        counted_on=today(),
    )
    _flush_unique(session, room, "number", message)
    rollups.occupants_changed(session, building.id, occupants)
    audit.record(session, actor, "room_added", room, {"building": building.id})
    return room


def update_room(
    session: Session, actor: Any, room: Room, *, number: str, beds: int, occupants: int
) -> Room:
    """Same rules as add_room; a changed head count is dated today."""
    number, beds, occupants = _room_values(number, beds, occupants)
    message = _("This building already has a room with this number.")
    if _room_number_taken(session, room.building_id, number, room.id):
        raise RuleViolation("number", message)
    changed = [
        k
        for k, v in (("number", number), ("beds", beds), ("occupants", occupants))
        if getattr(room, k) != v
    ]
    if not changed:
        return room
    delta = occupants - room.occupants
    try:
        with session.begin_nested():
            if occupants != room.occupants or room.counted_on is None:
                room.counted_on = today()
            room.number, room.beds, room.occupants = number, beds, occupants
    except IntegrityError:
        raise RuleViolation("number", message) from None
    rollups.occupants_changed(session, room.building_id, delta)
    audit.record(session, actor, "room_updated", room, {"fields": changed})
    return room


# --- landlord associations ---------------------------------------------------------


def apply_to_association(
    session: Session, landlord: Any, association: Organization, note: str | None = None
) -> AssociationApplication:
    """A landlord applies to the landlord association of their community; one open
    (pending or approved) application per landlord and association.
    Raises NotPermitted (not a landlord of that community) or Conflict."""
    if association.kind != "landlord_association" or not may_apply_to(landlord, association):
        raise NotPermitted()
    existing = session.scalar(
        select(AssociationApplication.status).where(
            AssociationApplication.association_id == association.id,
            AssociationApplication.landlord_id == landlord.id,
            AssociationApplication.status.in_(("pending", "approved")),
        )
    )
    if existing == "approved":
        raise Conflict(_("You are already a member of this association."))
    if existing == "pending":
        raise Conflict(_("You already applied; the association has not decided yet."))
    application = AssociationApplication(
        association_id=association.id,
        landlord_id=landlord.id,
        note=(note or "").strip()[:255] or None,
        status="pending",
    )
    try:
        with session.begin_nested():
            session.add(application)
    except IntegrityError:
        raise Conflict(_("You already applied; the association has not decided yet.")) from None
    audit.record(
        session, landlord, "association_applied", application, {"association": association.id}
    )
    notify(
        session,
        member_user_ids(session, [association.id], "association"),
        APPLICATION_NOTICE,
        # The review queue holds the application (places.reviews registers the kind).
        link=path_for("reviews.index", kind="association"),
        key=f"association-application:{application.id}",
        landlord=landlord.display_name,
        association=association.name,
    )
    return application


def decide_application(
    session: Session,
    officer: Any,
    application: AssociationApplication,
    decision: str,
    reason: str | None = None,
) -> AssociationApplication:
    """Approve or decline a pending application (a reason is required to decline).
    Only a pending application can be decided, once, even by two officers at the
    same moment. Raises RuleViolation("decision"/"reason") or Conflict."""
    if decision not in ("approve", "decline"):
        raise RuleViolation("decision", _("Choose approve or decline."))
    if decision == "decline":
        reason = require_reason(reason, _("Give a reason to decline."))
    else:
        reason = (reason or "").strip()
    if application.status != "pending":
        raise Conflict(_("This application was already decided."))
    status = "approved" if decision == "approve" else "declined"
    # One conditional UPDATE: of two concurrent decisions exactly one changes the row.
    result = session.execute(
        update(AssociationApplication)
        .where(
            AssociationApplication.id == application.id,
            AssociationApplication.status == "pending",
        )
        .values(
            status=status,
            decided_by_id=getattr(officer, "id", None),
            decided_at=utcnow(),
            reason=reason[:255] or None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_("This application was already decided."))
    session.refresh(application)
    if status == "approved":
        _join_sites(session, application)
    audit.record(
        session,
        officer,
        f"association_application_{status}",
        application,
        {"association": application.association_id},
    )
    session.flush()
    return application


def _join_sites(session: Session, application: AssociationApplication) -> None:
    """An approved landlord's sites in the association's community that belong to no
    association yet join it (a site already in one stays where it is)."""
    association = application.association
    session.execute(
        update(Site)
        .where(
            Site.landlord_id == application.landlord_id,
            Site.area_id == association.area_id,
            Site.association_id.is_(None),
        )
        .values(association_id=association.id)
        .execution_options(synchronize_session="fetch")
    )


__all__ = [
    "add_building",
    "add_room",
    "apply_to_association",
    "create_site",
    "decide_application",
    "rotate_token",
    "update_room",
    "update_site",
]
