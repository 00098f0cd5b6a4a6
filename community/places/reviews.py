"""Review kind of places: landlords' applications to join their community's
landlord association, decided by the association and the police of the area."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, literal
from sqlalchemy.orm import aliased

from community.accounts.models import Organization, User
from community.accounts.permissions import can
from community.core.reviews import ReviewKind, by_id, pending_select, register_review_kind
from community.places import services
from community.places.models import AssociationApplication
from community.places.permissions import decides_applications


def _pending_applications(user: Any) -> Select:
    association = aliased(Organization)
    landlord = aliased(User)
    title = landlord.display_name + literal(" → ") + association.name
    return (
        pending_select(
            AssociationApplication.id, title, AssociationApplication.created_at, association.area_id
        )
        .join(association, association.id == AssociationApplication.association_id)
        .join(landlord, landlord.id == AssociationApplication.landlord_id)
        .where(
            AssociationApplication.status == "pending",
            decides_applications(user, association.area_id),
        )
    )


register_review_kind(
    ReviewKind(
        name="association",
        label=_l("Association applications"),
        order=50,
        reviewer=lambda user: can(user, "association.review_queue"),
        pending=_pending_applications,
        get=by_id(AssociationApplication),
        view_action="association.review",
        decide_action="association.review",
        link=lambda id: url_for("places.associations"),
        link_action="association.page",
        approve=lambda session, user, app: services.decide_application(
            session, user, app, "approve"
        ),
        reject=lambda session, user, app, reason: services.decide_application(
            session, user, app, "decline", reason
        ),
        audit_type="associationapplication",
    )
)
