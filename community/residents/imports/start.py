"""The import's section of the start page: an enterprise's latest uploads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from community.core.start import StartSection, register_start_section
from community.residents.imports.models import ImportJob
from community.residents.imports.permissions import imports_in_bulk
from community.residents.start import SHOWN


@register_start_section
def imports_section(session: Session, user: Any) -> StartSection | None:
    """Enterprises: their latest spreadsheet uploads and how each went (one query)."""
    if not imports_in_bulk(user):
        return None
    jobs = list(
        session.scalars(
            select(ImportJob)
            .where(ImportJob.user_id == user.id)
            .order_by(ImportJob.created_at.desc(), ImportJob.id.desc())
            .limit(SHOWN)
        )
    )
    return StartSection("residents/imports/_start.html", order=22, context={"jobs": jobs})
