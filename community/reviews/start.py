"""The start-page section of reviewers (police, coordinators, association
officers): their waiting items per kind, each linking to its filtered queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from community.core.nav import set_badge_value
from community.core.reviews import kinds_for
from community.core.start import StartSection, register_start_section
from community.reviews import queries


@register_start_section
def review_counts(session: Session, user: Any) -> StartSection | None:
    kinds = kinds_for(user)
    if not kinds:
        return None
    found = queries.counts(session, user, cap=queries.COUNT_CAP)
    set_badge_value("reviews.index", sum(found.values()))  # the navigation counts no more
    return StartSection(
        "reviews/_start.html",
        order=10,
        context={
            "counts": [(k, found.get(k.name, 0)) for k in kinds],
            "total": sum(found.values()),
        },
    )
