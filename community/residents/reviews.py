"""Review kind of residents: pending registrations (the police verify or send
back). Registered from the package's __init__ (see community.core.reviews); the
proposed yellow cards are compliance's (compliance/reviews.py)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, literal

from community.accounts.permissions import can
from community.core.reviews import ReviewKind, by_id, pending_select, register_review_kind
from community.places.models import Building, Room, Site
from community.residents import queries, services
from community.residents.documents import FOREIGN_DOCUMENTS
from community.residents.models import Person, Residence
from community.residents.permissions import polices_in


def _pending_residences(user: Any) -> Select:
    # The title names the room, never the person (no personal data in the queue).
    title = Site.name + literal(" · ") + Building.name + literal(" ") + Room.number
    # A foreigner's stay is due within 24 hours: their registrations come first.
    foreign = case((Person.document_type.in_(FOREIGN_DOCUMENTS), 1), else_=0)
    return (
        pending_select(
            Residence.id,
            title,
            Residence.reported_at,
            Site.area_id,
            urgent=foreign,
            late=Residence.late,
            foreign=foreign,
        )
        .join(Person, Person.id == Residence.person_id)
        .join(Room, Room.id == Residence.room_id)
        .join(Building, Building.id == Room.building_id)
        .join(Site, Site.id == Building.site_id)
        .where(Residence.status == "pending", polices_in(user, Site.area_id))
    )


def _describe_residence(row: Any) -> str:
    marks = [_l("Foreign national")] if row.foreign else []
    marks += [_l("Late")] if row.late else []
    return " · ".join(str(part) for part in (row.title, *marks))


register_review_kind(
    ReviewKind(
        name="residence",
        label=_l("Registrations"),
        order=10,
        reviewer=lambda user: can(user, "residence.verify_many"),
        pending=_pending_residences,
        describe=_describe_residence,
        get=by_id(queries.get_residence),
        view_action="residence.view",
        decide_action="residence.decide",
        link=lambda id: url_for("residents.show", residence_id=id),
        approve=services.verify_residence,
        reject=services.reject_residence,
        audit_type="residence",
    )
)
