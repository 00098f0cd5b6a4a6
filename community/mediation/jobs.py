"""The mediation periodic job (core.jobs, run by `flask worker`): cases past their
acceptance or conclusion date are marked overdue and their people told, once."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from community.core.jobs import register_periodic
from community.core.timeutil import local_date
from community.mediation.services import mark_overdue


def mediation_overdue(session: Session, now: datetime) -> str:
    """Mark the overdue cases of the local day of `now` (naive UTC). Commits."""
    marked = mark_overdue(session, local_date(now))
    session.commit()
    return f"overdue cases marked: {marked}"


register_periodic(
    "mediation-overdue",
    mediation_overdue,
    every=timedelta(hours=1),
    label=_l("Marking overdue mediation cases"),
)
