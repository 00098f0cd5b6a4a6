"""Review kinds of residents: pending registrations (the police verify or send back)
and proposed yellow cards (the police issue or dismiss). Registered from the
package's __init__ (see community.core.reviews)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import Session

from community.accounts.models import Organization, User
from community.accounts.permissions import can, in_areas
from community.core.reviews import ReviewKind, register_review_kind
from community.core.validators import is_id
from community.places.models import Building, Room, Site
from community.residents import queries, services
from community.residents.models import Residence, YellowCardProposal


def _pending_residences(user: Any) -> Select:
    # The title names the room, never the person (no personal data in the queue).
    title = Site.name + literal(" · ") + Building.name + literal(" ") + Room.number
    return (
        select(
            Residence.id.label("id"),
            title.label("title"),
            Residence.reported_at.label("since"),
            Site.area_id.label("area_id"),
            Residence.late.label("late"),
        )
        .join(Room, Room.id == Residence.room_id)
        .join(Building, Building.id == Room.building_id)
        .join(Site, Site.id == Building.site_id)
        .where(Residence.status == "pending", in_areas(user, Site.area_id, "police"))
    )


def _describe_residence(row: Any) -> str:
    return f"{row.title} · {_l('Late')}" if row.late else row.title


register_review_kind(
    ReviewKind(
        name="residence",
        label=_l("Registrations"),
        order=10,
        reviewer=lambda user: can(user, "residence.verify_many"),
        pending=_pending_residences,
        describe=_describe_residence,
        get=queries.get_residence,
        view_action="residence.view",
        decide_action="residence.decide",
        link=lambda id: url_for("residents.show", residence_id=id),
        approve=services.verify_residence,
        reject=services.reject_residence,
        audit_type="residence",
    )
)


def _pending_proposals(user: Any) -> Select:
    title = func.coalesce(User.display_name, Organization.name)
    return (
        select(
            YellowCardProposal.id.label("id"),
            title.label("title"),
            YellowCardProposal.created_at.label("since"),
            YellowCardProposal.area_id.label("area_id"),
            YellowCardProposal.month.label("month"),
        )
        .outerjoin(User, User.id == YellowCardProposal.user_id)
        .outerjoin(Organization, Organization.id == YellowCardProposal.organization_id)
        .where(
            YellowCardProposal.status == "pending",
            in_areas(user, YellowCardProposal.area_id, "police"),
        )
    )


def _get_proposal(session: Session, proposal_id: int) -> YellowCardProposal | None:
    return session.get(YellowCardProposal, proposal_id) if is_id(proposal_id) else None


register_review_kind(
    ReviewKind(
        name="yellow_card",
        label=_l("Proposed yellow cards"),
        order=60,
        reviewer=lambda user: can(user, "compliance.issue_card"),
        pending=_pending_proposals,
        describe=lambda row: f"{row.title} · {row.month:%Y-%m}",
        get=_get_proposal,
        view_action="yellow_card_proposal.view",
        decide_action="yellow_card_proposal.decide",
        link=lambda id: url_for("residents.compliance"),
        approve=services.issue_proposed_card,
        reject=services.dismiss_proposal,
        audit_type="yellowcardproposal",
    )
)
