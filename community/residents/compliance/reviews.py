"""Review kind of compliance: proposed yellow cards (the police issue or dismiss
them). Registered from the package's __init__ (see community.core.reviews)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func

from community.accounts.models import Organization, User
from community.accounts.permissions import can
from community.core.reviews import ReviewKind, by_id, pending_select, register_review_kind
from community.residents.compliance import services
from community.residents.compliance.models import YellowCardProposal
from community.residents.compliance.permissions import decides_proposals


def _pending_proposals(user: Any) -> Select:
    title = func.coalesce(User.display_name, Organization.name)
    return (
        pending_select(
            YellowCardProposal.id,
            title,
            YellowCardProposal.created_at,
            YellowCardProposal.area_id,
            month=YellowCardProposal.month,
        )
        .outerjoin(User, User.id == YellowCardProposal.user_id)
        .outerjoin(Organization, Organization.id == YellowCardProposal.organization_id)
        .where(
            YellowCardProposal.status == "pending",
            decides_proposals(user, YellowCardProposal.area_id),
        )
    )


register_review_kind(
    ReviewKind(
        name="yellow_card",
        label=_l("Proposed yellow cards"),
        order=60,
        reviewer=lambda user: can(user, "compliance.issue_card"),
        pending=_pending_proposals,
        describe=lambda row: f"{row.title} · {row.month:%Y-%m}",
        get=by_id(YellowCardProposal),
        view_action="yellow_card_proposal.view",
        decide_action="yellow_card_proposal.decide",
        link=lambda id: url_for("residents.compliance"),
        approve=services.issue_proposed_card,
        reject=services.dismiss_proposal,
        audit_type="yellowcardproposal",
    )
)
