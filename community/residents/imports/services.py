"""The web import's job, a step at a time: the upload stored and queued
(start_import), then the worker's steps (run_step: the first reads the file into a
rows file under a claim, each later one imports the next chunk with the job's
cursor, claim_step/_advance), so any number of runners leave one correct import.
The rows themselves are validated and written by rows.Importer, the command line's
import_file too; both are named here as well, for the callers of this module."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from community.core.errors import RuleViolation
from community.core.timeutil import utcnow
from community.residents.imports import files
from community.residents.imports.files import CHUNK, ImportRefused
from community.residents.imports.models import ImportJob
from community.residents.imports.rows import (  # noqa: F401 - the names callers use here
    Importer,
    ImportResult,
    import_file,
    import_rows,
)


def start_import(session: Session, user: Any, filename: str, data: bytes) -> ImportJob:
    """Store an uploaded file under IMPORT_DIR (random name) and queue its job.
    RuleViolation("file") for an empty or too large file, or an xlsx that unpacks
    too far (files.check_upload; nothing stored)."""
    limit = files.max_bytes()
    if not data:
        raise RuleViolation("file", _("The file is empty."))
    if len(data) > limit:
        raise RuleViolation(
            "file", _("The file is larger than %(mb)d MB.", mb=max(1, limit // (1024 * 1024)))
        )
    try:
        files.check_upload(data)
    except ImportRefused as exc:
        raise RuleViolation("file", exc.message) from None
    path = files.store_upload(data)
    shown = " ".join((Path(filename or "").name or "upload").split())[:255]
    job = ImportJob(user_id=user.id, filename=shown, path=str(path), status="queued")
    session.add(job)
    session.flush()
    return job


def _expired_message() -> str:
    return _(
        "The uploaded file is no longer kept (after %(hours)d hours); upload it again.",
        hours=files.retention_hours(),
    )


def stale_after() -> timedelta:
    """How long a step's claim holds: past it the runner is taken to be gone (killed
    past the server's timeout, crashed before its commit) and another may take over."""
    return timedelta(minutes=int(current_app.config.get("IMPORT_STEP_STALE_MINUTES", 5)))


@dataclass(frozen=True)
class Claim:
    """A runner's claim on a job's next step (claim_step): its token, and the job's
    files and progress as the claim found them."""

    token: str
    path: str
    rows_path: str | None
    done: int
    total: int


def claim_step(session: Session, job: ImportJob) -> Claim | None:
    """Claim the job's next step for one runner (a request, or a worker): one
    conditional UPDATE gives the job a fresh runner token when it still runs and no
    other runner holds it (or that runner's claim is older than stale_after()), and
    returns the job's state as of the claim. None when the step is not this
    runner's: the job is finished or another runner holds it (a claim seen held
    answers without writing). Flushes nothing else; the caller commits the claim."""
    now = utcnow()
    cutoff = now - stale_after()
    if not job.is_running or (
        job.runner is not None and job.step_started_at and job.step_started_at >= cutoff
    ):
        return None
    token = secrets.token_hex(16)
    row = session.execute(
        update(ImportJob)
        .where(
            ImportJob.id == job.id,
            ImportJob.status.in_(("queued", "running")),
            or_(ImportJob.runner.is_(None), ImportJob.step_started_at < cutoff),
        )
        .values(status="running", runner=token, step_started_at=now)
        .returning(ImportJob.path, ImportJob.rows_path, ImportJob.done, ImportJob.total)
        .execution_options(synchronize_session=False)
    ).first()
    return Claim(token, *row) if row is not None else None


def _release(session: Session, job: ImportJob, token: str, **values: Any) -> bool:
    """End this runner's claim, writing `values`, when the claim is still its own
    (not taken over meanwhile); False, writing nothing, when it is not. The UPDATE
    holds the job's row (PostgreSQL) or the database (SQLite) until the commit, so a
    runner taking over waits for this step's commit and then sees it done."""
    released = session.execute(
        update(ImportJob)
        .where(ImportJob.id == job.id, ImportJob.runner == token)
        .values(runner=None, step_started_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(job)
    return released.rowcount == 1


def _fail(session: Session, job: ImportJob, claim: Claim, message: str) -> None:
    values = {"status": "failed", "message": message, "finished_at": utcnow()}
    if _release(session, job, claim.token, **values):
        files.unlink(job.path)
        files.unlink(job.rows_path)


def _first_step(session: Session, job: ImportJob, claim: Claim) -> None:
    """Read the upload into this runner's rows file, then record it on the job if the
    claim is still this runner's."""
    try:
        rows_path, total, ignored = files.prepare(claim.path, claim.token)
    except ImportRefused as exc:
        _fail(session, job, claim, exc.message)
        return
    except FileNotFoundError:
        _fail(session, job, claim, _expired_message())
        return
    recorded = {
        "rows_path": rows_path,
        "total": total,
        "errors_path": files.errors_path(claim.path),
        "message": files.ignored_message(ignored),
    }
    if _release(session, job, claim.token, **recorded):
        files.unlink(claim.path)
    else:
        files.unlink(rows_path)


def _advance(session: Session, user: Any, job: ImportJob, size: int, today: date | None) -> None:
    """A step after the first (the file is read into job.rows_path): import the next
    `size` rows without a claim committed beforehand. The job's cursor as read here
    decides the chunk; the read ends (commit: nothing is pending), so the step's
    first statement is one conditional UPDATE moving the cursor on — while the job
    runs, its cursor is still there and no live runner holds its claim — and the rows
    are written in the same transaction, for the caller to commit with it. Another
    runner that moved the cursor first leaves this one writing nothing (PostgreSQL
    re-checks the WHERE after waiting for its row; SQLite serialises the writers). A
    runner killed before its commit leaves nothing of its chunk and holds nothing:
    the next runner takes the same chunk at once."""
    start, total, rows_path = job.done, job.total, job.rows_path or ""
    try:
        batch = files.read_chunk(rows_path, start, size)
    except FileNotFoundError:
        batch = None
    session.commit()  # end the read: on SQLite a read turning into a write may fail at once
    cutoff = utcnow() - stale_after()
    done = start + len(batch or [])
    if batch is None:
        values: dict[str, Any] = {"status": "failed", "message": _expired_message()}
        values["finished_at"] = utcnow()
    else:
        values = {"done": done, "status": "running"}
        if done >= total:
            values.update(status="done", finished_at=utcnow())
    moved = session.execute(
        update(ImportJob)
        .where(
            ImportJob.id == job.id,
            ImportJob.status.in_(("queued", "running")),
            ImportJob.done == start,
            or_(ImportJob.runner.is_(None), ImportJob.step_started_at < cutoff),
        )
        .values(runner=None, step_started_at=None, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(job)
    if moved != 1:
        return
    if batch is None:
        files.unlink(job.path)
        files.unlink(job.rows_path)
        return
    result = Importer(session, user, today).run(batch)
    if result.problems:
        files.add_problems(job, result.problems)
    job.imported += result.imported
    job.already += result.already
    job.refused += result.refused
    if job.status == "done":
        files.unlink(job.rows_path)


def run_step(
    session: Session, user: Any, job: ImportJob, size: int | None = None, today: date | None = None
) -> ImportJob:
    """Run the job's next step — the first reads the file, each later one imports the
    next `size` rows (_advance) — when this runner can take it; otherwise return the
    job as it stands. The first step's claim (claim_step) is committed at once (a
    service's commit, like _advance's end of its read), so every other runner sees it
    before the long read of the file, which runs without a statement to the database
    and writes only once it has read it; a runner killed during it holds the claim
    until it is older than IMPORT_STEP_STALE_MINUTES. The step's own writes are
    flushed, for the caller to commit: a later step's rows with the job's cursor, so
    a chunk is all written or not at all. A refused file ends the job as failed with
    the reason; the last chunk ends it as done. Any number of concurrent runners
    leave one correct import, each chunk imported once."""
    if job.is_running and job.rows_path is not None:
        _advance(session, user, job, size or CHUNK, today)
        session.flush()
        return job
    claim = claim_step(session, job)
    if claim is None:
        session.refresh(job)
        return job
    session.commit()
    if claim.rows_path is None:
        _first_step(session, job, claim)
    else:  # another runner read the file meanwhile: the next step is _advance's
        _release(session, job, claim.token)
    session.flush()
    return job
