"""The import's queue (core.jobs, run by `flask worker`): an uploaded file's job is
run step after step by a worker, never by a request. A worker picks the oldest job
still running whose step no live runner holds and runs one step
(services.run_step), committing it: the first step reads the file under a claim
committed beforehand; each later one moves the job's cursor (`done`) with one
conditional UPDATE and writes its chunk's rows in the same transaction, so a
worker killed mid-chunk leaves nothing of that chunk and holds nothing, and the
next worker goes on from the cursor at once (a worker killed while reading the
file holds its claim until it is older than IMPORT_STEP_STALE_MINUTES)."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from community.accounts.models import User
from community.core.jobs import register_queue
from community.core.timeutil import utcnow
from community.residents.imports.files import CHUNK
from community.residents.imports.models import ImportJob

RUNNING = ("queued", "running")


def chunk_rows() -> int:
    """Rows per step: IMPORT_CHUNK_ROWS (files.CHUNK by default)."""
    return int(current_app.config.get("IMPORT_CHUNK_ROWS") or CHUNK)


def step(session: Session) -> bool:
    """Run one step of the oldest free running job; False when none waits. Commits."""
    # Here, not at the top: this module is imported first of the sub-package (its
    # registration), before the residents' services it builds on are loaded.
    from community.residents.imports import services

    cutoff = utcnow() - services.stale_after()
    job = session.scalar(
        select(ImportJob)
        .where(
            ImportJob.status.in_(RUNNING),
            or_(ImportJob.runner.is_(None), ImportJob.step_started_at < cutoff),
        )
        .order_by(ImportJob.id)
        .limit(1)
    )
    if job is None:
        session.rollback()
        return False
    user = session.get(User, job.user_id)
    languages = current_app.config["LANGUAGES"]
    chosen = job.locale if job.locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(chosen):
        services.run_step(session, user, job, size=chunk_rows())
    session.commit()
    return True


def depth(session: Session) -> int:
    """Jobs waiting for or in the middle of their import."""
    return session.scalar(
        select(func.count()).select_from(ImportJob).where(ImportJob.status.in_(RUNNING))
    )


register_queue("imports", step, depth, label=_l("Residents imports"))
