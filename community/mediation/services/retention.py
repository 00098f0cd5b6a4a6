"""Retention of the parties' personal data: erased MEDIATION_PARTY_RETENTION_DAYS
after their case was closed (`flask purge-expired` and the worker's purge job),
the case itself kept, so its figures stay as they were."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import String, cast, delete, literal, select, update
from sqlalchemy.orm import Session

from community.core import audit
from community.core.timeutil import day_start
from community.core.timeutil import today as local_today
from community.mediation.models import CaseParty, CasePartyKey, MediationCase
from community.mediation.services.common import PARTIES_PURGED, setting

BATCH = 1000
PURGED = "purged:"
# What an erased name or phone reads (the columns are NOT NULL), as residents' ID
# numbers do after their purge.
ERASED = "-"


def purge_expired_parties(session: Session, today: date | None = None) -> int:
    """Erase the parties' personal data (name and phone become "-"; identity
    document and its type, organisation; the name keys of the search) of the cases closed on a local
    day more than MEDIATION_PARTY_RETENTION_DAYS before `today` (local): a case
    closed on day D is erased from day D + days + 1. The case (kind, area, team,
    amounts, outcome, dates, timeline) stays, so the figures do not change; an open
    or concluded but not closed case keeps its parties. The phone's keyed hash
    becomes "purged:<id>" (a purged party is found by no search and flags no
    conflict). Returns how many cases had their parties erased; one audit event."""
    days = setting("MEDIATION_PARTY_RETENTION_DAYS")
    cutoff = day_start((today or local_today()) - timedelta(days=days))
    ids = session.scalars(
        select(MediationCase.id).where(
            MediationCase.status == "closed",
            MediationCase.closed_at < cutoff,
            MediationCase.id.in_(
                select(CaseParty.case_id).where(CaseParty.phone_hash.not_like(f"{PURGED}%"))
            ),
        )
    ).all()
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        session.execute(
            update(CaseParty)
            .where(CaseParty.case_id.in_(batch))
            .values(
                name=ERASED,
                phone=ERASED,
                phone_hash=literal(PURGED) + cast(CaseParty.id, String),
                document_type=None,
                id_number=None,
                id_hash=None,
                organization=None,
            )
            .execution_options(synchronize_session=False)
        )
        session.execute(
            delete(CasePartyKey)
            .where(CasePartyKey.case_id.in_(batch))
            .execution_options(synchronize_session=False)
        )
    if ids:
        audit.record(session, None, PARTIES_PURGED, MediationCase(), {"cases": len(ids)})
    session.flush()
    return len(ids)
