"""Access rules of the audit log: the police and administrators read it; nobody
changes it. What they read is scoped like every other list (`visible_events`):
administrators every event; police (and coordinators, should a rule let them read
the log) the events about objects of their areas and their own actions.

An event names its object by `object_type` (the model's class name, lower case, or
the name given to core.audit.record) and `object_id`. OBJECT_AREAS says how each
type reaches an area; audit sits above the features (tests/test_architecture.py),
so it reads their tables directly. A type not listed there has no area (a user
account, a membership, a login, an export of this log): its events show to their
actor and administrators only. A feature that records events about a new kind of
object adds it here (or to AREA_LESS), or the police of its area will not see them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, and_, column, false, func, or_, select, table, true

from community.accounts.models import Area, Membership, Organization
from community.accounts.permissions import (
    area_subtree_filter,
    has_role,
    is_admin,
    rule,
    scope_areas,
)
from community.assessments.models import Assessment
from community.core.models import AuditEvent
from community.duty.models import DutyClaim, DutyTask
from community.hazards.models import Hazard
from community.inspections.models import Incident, Inspection
from community.places.models import AssociationApplication, Building, Room, Site
from community.residents.compliance.models import YellowCard, YellowCardProposal
from community.residents.models import Residence

# Roles whose areas scope the events they see.
AREA_ROLES = ("police", "coordinator")

# (SELECT of area ids in scope) -> SQL condition on AuditEvent: its object lies in
# one of those areas. Each is a correlated EXISTS that looks the event's object up by
# primary key, so a page of events costs its rows' look-ups, whatever the size of
# the tables behind them.
ObjectScope = Callable[[Select], Any]


def _found(stmt: Select, id_column, area_column) -> ObjectScope:
    def scope(area_ids: Select) -> Any:
        return stmt.where(id_column == AuditEvent.object_id, area_column.in_(area_ids)).exists()

    return scope


def _at_site(model) -> ObjectScope:
    """A row with a site_id (hazards, assessments, inspections, incidents)."""
    return _found(select(model.id).join(Site, Site.id == model.site_id), model.id, Site.area_id)


def _yellow_card(area_ids: Select) -> Any:
    """A card to a property company (its area) or to a landlord (the areas of their
    landlord memberships)."""
    company = _found(
        select(YellowCard.id).join(Organization, Organization.id == YellowCard.organization_id),
        YellowCard.id,
        Organization.area_id,
    )
    landlord = _found(
        select(YellowCard.id)
        .join(
            Membership,
            and_(Membership.user_id == YellowCard.user_id, Membership.role == "landlord"),
        )
        .outerjoin(Organization, Organization.id == Membership.organization_id),
        YellowCard.id,
        func.coalesce(Organization.area_id, Membership.area_id),
    )
    return or_(company(area_ids), landlord(area_ids))


# Mediation sits beside audit (layer 5: neither imports the other), so its tables are
# named here, not imported; coupled with community/mediation/models.py.
_CASE = table("mediation_case", column("id"), column("area_id"))
_ROOM = table("mediation_room", column("id"), column("area_id"))

OBJECT_AREAS: dict[str, ObjectScope] = {
    "site": _found(select(Site.id), Site.id, Site.area_id),
    "building": _found(
        select(Building.id).join(Site, Site.id == Building.site_id), Building.id, Site.area_id
    ),
    "room": _found(
        select(Room.id)
        .join(Building, Building.id == Room.building_id)
        .join(Site, Site.id == Building.site_id),
        Room.id,
        Site.area_id,
    ),
    "residence": _found(
        select(Residence.id)
        .join(Room, Room.id == Residence.room_id)
        .join(Building, Building.id == Room.building_id)
        .join(Site, Site.id == Building.site_id),
        Residence.id,
        Site.area_id,
    ),
    "hazard": _at_site(Hazard),
    "assessment": _at_site(Assessment),
    "inspection": _at_site(Inspection),
    "incident": _at_site(Incident),
    "dutytask": _found(select(DutyTask.id), DutyTask.id, DutyTask.area_id),
    "dutyclaim": _found(
        select(DutyClaim.id).join(DutyTask, DutyTask.id == DutyClaim.task_id),
        DutyClaim.id,
        DutyTask.area_id,
    ),
    "associationapplication": _found(
        select(AssociationApplication.id).join(
            Organization, Organization.id == AssociationApplication.association_id
        ),
        AssociationApplication.id,
        Organization.area_id,
    ),
    "yellowcard": _yellow_card,
    "yellowcardproposal": _found(
        select(YellowCardProposal.id), YellowCardProposal.id, YellowCardProposal.area_id
    ),
    "mediationcase": _found(select(_CASE.c.id), _CASE.c.id, _CASE.c.area_id),
    "mediationroom": _found(select(_ROOM.c.id), _ROOM.c.id, _ROOM.c.area_id),
}

# Object types with no area: their events show to their actor and administrators.
AREA_LESS = ("user", "membership", "person", "audit_event")


def visible_events(user: Any) -> Any:
    """SQL condition on AuditEvent: the events `user` may read — administrators all;
    anyone else their own actions, and with an area role (AREA_ROLES) the events
    about objects of their area subtrees (OBJECT_AREAS)."""
    if is_admin(user):
        return true()
    own = AuditEvent.actor_id == user.id if getattr(user, "id", None) is not None else false()
    areas = scope_areas(user, *AREA_ROLES)
    if not areas:
        return own
    area_ids = select(Area.id).where(area_subtree_filter(Area.path, areas))
    about = [
        and_(AuditEvent.object_type == object_type, in_area(area_ids))
        for object_type, in_area in OBJECT_AREAS.items()
    ]
    return or_(own, *about)


@rule("audit.view")
def _reads_audit(user: Any, obj: Any) -> bool:
    return is_admin(user) or has_role(user, "police")
