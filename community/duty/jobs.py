"""The duty's periodic job (core.jobs, run by `flask worker`): closing ended duties,
what `flask close-duties` runs too."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from community.core.jobs import register_periodic
from community.duty.services import close_duties as close


def close_duties(session: Session, now: datetime | None = None) -> str:
    """Claims nobody checked into by a duty's end become no-shows; duties past their
    end become done (services.close_duties: safe to run twice). Commits."""
    no_shows, done = close(session, now)
    session.commit()
    return f"no-shows: {no_shows}; duties done: {done}"


register_periodic(
    "close-duties", close_duties, every=timedelta(minutes=15), label=_l("Closing ended duties")
)
