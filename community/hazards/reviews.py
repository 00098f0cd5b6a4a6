"""Review kind of hazards: fixed hazards whose fix waits to be checked — approve
closes the hazard, reject reopens it with the reason."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, literal

from community.accounts.permissions import can
from community.core.reviews import ReviewKind, by_id, pending_select, register_review_kind
from community.hazards import queries, services
from community.hazards.models import Hazard
from community.places.models import Site
from community.places.permissions import inspects_areas


def _fixed_hazards(user: Any) -> Select:
    title = Site.name + literal(" · ") + func.substr(Hazard.description, 1, 60)
    return (
        pending_select(Hazard.id, title, Hazard.fixed_at, Site.area_id)
        .join(Site, Site.id == Hazard.site_id)
        .where(Hazard.status == "fixed", inspects_areas(user, Site.area_id))
    )


register_review_kind(
    ReviewKind(
        name="hazard",
        label=_l("Fixed hazards to close"),
        order=30,
        reviewer=lambda user: can(user, "hazard.review_queue"),
        pending=_fixed_hazards,
        get=by_id(queries.get_hazard),
        view_action="hazard.view",
        decide_action="hazard.close",
        link=lambda id: url_for("hazards.show", hazard_id=id),
        approve=services.close_hazard,
        reject=services.reopen_hazard,
        audit_type="hazard",
    )
)
