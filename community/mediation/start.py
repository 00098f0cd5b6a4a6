"""The start-page section of mediation: a team lead's cases to accept, a
mediator's open cases and follow-ups due, the police's open and high-risk cases
of their areas and those overdue."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from community.accounts.permissions import can
from community.core.start import StartSection, register_start_section
from community.mediation import queries


@register_start_section
def mediation_section(session: Session, user: Any) -> StartSection | None:
    mediator = can(user, "nav.mediation.mine")
    police = can(user, "mediation.police_counts")
    if not (mediator or police):
        return None
    counts = queries.start_counts(
        session,
        user,
        lead=can(user, "mediation.lead_counts"),
        mediator=mediator,
        police=police,
    )
    return StartSection("mediation/_start.html", order=35, context={"counts": counts})
