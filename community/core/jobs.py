"""Work that runs in `flask worker`, never inside a web request, contributed by the
features (a registry, like the reminders): periodic jobs and queues.

A periodic job is `fn(session: Session, now: datetime) -> str | None` (`now` naive
UTC; the answer is a one-line summary for the log), registered at import time with
`register_periodic(kind, fn, every=timedelta(...))`. It may commit (the outbox
commits each claim) and is committed once more when it returns; an exception rolls
its open transaction back and is recorded on its row. Each kind has one row in the
table periodic_job, claimed by one conditional UPDATE

    UPDATE periodic_job SET runner = :token, lease_until = :now + lease,
        next_run_at = :now + every, ...
    WHERE kind = :kind AND next_run_at <= :now
      AND (lease_until IS NULL OR lease_until < :now)

committed before the job runs: with any number of workers on any number of hosts
it runs once per period (the winner moves next_run_at on) and never overlaps itself
(a run holds its lease, renewed while it runs; a worker killed mid-run leaves the
lease to expire, and the kind runs again at its next period). A failed run is tried
again after RETRY_AFTER when its period is longer.

A queue is `step(session) -> bool`: take one unit of queued work (a claim of its
own, as the import's step claim) and do it, committing; False when none was
waiting. `depth(session) -> int` counts what waits, for the admin page; the
queue's own row of periodic_job (never claimed) notes its last step, last success
and failures. A step
must leave no half unit behind when the worker is killed: its work and its
cursor commit together.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import String, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from community.core.commands import register_command
from community.core.timeutil import utcnow
from community.extensions import db

log = logging.getLogger("community")

PeriodicFn = Callable[[Session, datetime], "str | None"]


@dataclass(frozen=True)
class Periodic:
    kind: str
    fn: PeriodicFn
    every: timedelta
    lease: timedelta
    label: Any


@dataclass(frozen=True)
class Queue:
    kind: str
    step: Callable[[Session], bool]
    depth: Callable[[Session], int]
    label: Any


_PERIODIC: dict[str, Periodic] = {}
_QUEUES: dict[str, Queue] = {}

# A run holds its lease this long unless it says otherwise; the worker renews it
# while the run lasts (a third of the way through), so only a dead worker's lease ends.
DEFAULT_LEASE = timedelta(minutes=10)


def register_periodic(
    kind: str,
    fn: PeriodicFn,
    *,
    every: timedelta,
    label: Any = None,
    lease: timedelta = DEFAULT_LEASE,
) -> PeriodicFn:
    """Run `fn` once every `every` in some worker (the kind names its row: [a-z-])."""
    if not kind.replace("-", "").isalpha() or kind.lower() != kind or len(kind) > 40:
        raise ValueError(f"bad job kind {kind!r}")
    if kind in _QUEUES or (kind in _PERIODIC and _PERIODIC[kind].fn is not fn):
        raise KeyError(f"periodic job {kind!r} already registered")
    _PERIODIC[kind] = Periodic(kind, fn, every, lease, label or kind)
    return fn


def register_queue(
    kind: str, step: Callable[[Session], bool], depth: Callable[[Session], int], label: Any = None
) -> None:
    """Step the queue in every worker, again and again while it has work; `kind` names
    its row of periodic_job too (how its steps went), so no periodic job may share it."""
    if kind in _PERIODIC or (kind in _QUEUES and _QUEUES[kind].step is not step):
        raise KeyError(f"queue {kind!r} already registered")
    _QUEUES[kind] = Queue(kind, step, depth, label or kind)


def periodic_jobs() -> list[Periodic]:
    return [_PERIODIC[k] for k in sorted(_PERIODIC)]


def queues() -> list[Queue]:
    return [_QUEUES[k] for k in sorted(_QUEUES)]


def period_of(job: Periodic, config: dict) -> timedelta:
    """The job's period: JOB_PERIODS={kind: seconds} in the settings wins over its own."""
    seconds = (config.get("JOB_PERIODS") or {}).get(job.kind)
    return timedelta(seconds=int(seconds)) if seconds else job.every


class PeriodicJob(db.Model):
    """One row per periodic job kind (core.jobs.register_periodic): when it is due, who
    runs it until when, and how its runs went."""

    __tablename__ = "periodic_job"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_run_at: Mapped[datetime]
    # The running worker's claim: its token and how long the claim holds (renewed
    # while the run lasts); NULL while no run holds it.
    runner: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None]
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    # The last failure's error (its kind and first line; cleared by a success) and the
    # failures since the last success.
    last_error: Mapped[str | None] = mapped_column(String(500))
    failures: Mapped[int] = mapped_column(default=0)
    runs: Mapped[int] = mapped_column(default=0)


def ensure_rows(session: Session, now: datetime | None = None) -> None:
    """Give every registered kind its row (due at once), leaving existing rows alone:
    INSERT ... ON CONFLICT DO NOTHING, so workers starting together add each once.
    Commits."""
    now = now or utcnow()
    table = PeriodicJob.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for job in periodic_jobs():
        session.execute(
            insert(table)
            .values(kind=job.kind, next_run_at=now, failures=0, runs=0)
            .on_conflict_do_nothing(index_elements=["kind"])
        )
    session.commit()


def claim(
    session: Session, job: Periodic, now: datetime, every: timedelta | None = None
) -> str | None:
    """Claim the kind's run due at `now` (see the module doc): the claim's token, or
    None when it is not due or another run holds it. Commits the claim."""
    token = secrets.token_hex(16)
    claimed = session.execute(
        update(PeriodicJob)
        .where(
            PeriodicJob.kind == job.kind,
            PeriodicJob.next_run_at <= now,
            or_(PeriodicJob.lease_until.is_(None), PeriodicJob.lease_until < now),
        )
        .values(
            runner=token,
            lease_until=now + job.lease,
            next_run_at=now + (every or job.every),
            last_run_at=now,
            runs=PeriodicJob.runs + 1,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return token if claimed.rowcount == 1 else None


def _error_text(exc: BaseException) -> str:
    """The error as the admin page shows it: its kind and the first line of its
    message (a database error's own message, without the statement or its values)."""
    inner = getattr(exc, "orig", None) if isinstance(exc, SQLAlchemyError) else None
    text = str(inner if inner is not None else exc).strip().splitlines()
    return f"{type(inner or exc).__name__}: {text[0] if text else ''}"[:500]


# A failed run is tried again after this at the latest (a daily job does not wait a
# day), or at its next period when that comes sooner.
RETRY_AFTER = timedelta(minutes=5)


def _finish(
    session: Session,
    kind: str,
    token: str,
    now: datetime,
    error: str | None,
    every: timedelta | None = None,
) -> None:
    values: dict[str, Any] = {"runner": None, "lease_until": None}
    if error is None:
        values.update(last_success_at=now, last_error=None, failures=0)
    else:
        values.update(last_failure_at=now, last_error=error, failures=PeriodicJob.failures + 1)
        if every is not None and every > RETRY_AFTER:
            values["next_run_at"] = now + RETRY_AFTER
    session.execute(
        update(PeriodicJob)
        .where(PeriodicJob.kind == kind, PeriodicJob.runner == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


class _Renewal:
    """Renews a run's lease from a thread of its own (its own connection) every third
    of the lease while the run lasts, so a long run is never taken for a dead one."""

    def __init__(self, engine, kind: str, token: str, lease: timedelta):
        self.engine, self.kind, self.token, self.lease = engine, kind, token, lease
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"lease-{kind}", daemon=True)

    def __enter__(self) -> _Renewal:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.done.wait(self.lease.total_seconds() / 3):
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        update(PeriodicJob)
                        .where(PeriodicJob.kind == self.kind, PeriodicJob.runner == self.token)
                        .values(lease_until=utcnow() + self.lease)
                    )
            except SQLAlchemyError as exc:  # retried at the next third
                log.warning("job %s: lease not renewed: %s", self.kind, type(exc).__name__)


def run_periodic(
    session: Session, job: Periodic, now: datetime | None = None, config: dict | None = None
) -> bool | None:
    """Run the kind once if it is due and free (claim): True when it ran and succeeded,
    False when it failed (recorded on its row), None when it was not this worker's."""
    now = now or utcnow()
    every = period_of(job, config or {})
    token = claim(session, job, now, every)
    if token is None:
        return None
    error = None
    try:
        with _Renewal(session.get_bind().engine, job.kind, token, job.lease):
            summary = job.fn(session, now)
            session.commit()
    except Exception as exc:  # noqa: BLE001 - any failure is recorded, the worker goes on
        session.rollback()
        error = _error_text(exc)
        log.error("job %s failed: %s", job.kind, error, exc_info=exc)
    else:
        log.info("job %s: %s", job.kind, summary or "done")
    _finish(session, job.kind, token, now, error, every)
    return error is None


def run_due(session: Session, now: datetime | None = None, config: dict | None = None) -> int:
    """Run every periodic kind that is due and free; returns how many ran. Reads which
    are due first and ends that read (an idle worker writes nothing), then claims each."""
    now = now or utcnow()
    due = set(
        session.scalars(
            select(PeriodicJob.kind).where(
                PeriodicJob.next_run_at <= now,
                or_(PeriodicJob.lease_until.is_(None), PeriodicJob.lease_until < now),
            )
        )
    )
    session.rollback()  # on SQLite a read turning into a write would fail at once
    return sum(
        run_periodic(session, job, now, config) is not None
        for job in periodic_jobs()
        if job.kind in due
    )


def _record_step(session: Session, kind: str, error: str | None) -> None:
    """Note a queue's step on its row of periodic_job (its own row, never claimed: only
    the admin page reads it): the time, and a success or the failure with its error.
    One upsert, committed."""
    now = utcnow()
    table = PeriodicJob.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values: dict[str, Any] = {"last_run_at": now, "runs": table.c.runs + 1}
    if error is None:
        values.update(last_success_at=now, failures=0, last_error=None)
    else:
        values.update(last_failure_at=now, last_error=error, failures=table.c.failures + 1)
    failed = error is not None
    stmt = insert(table).values(
        kind=kind,
        next_run_at=now,
        last_run_at=now,
        last_success_at=None if failed else now,
        last_failure_at=now if failed else None,
        last_error=error,
        failures=int(failed),
        runs=1,
    )
    session.execute(stmt.on_conflict_do_update(index_elements=["kind"], set_=values))
    session.commit()


def run_queues(session: Session) -> bool:
    """One step of each queue; True when any did some work. Each step that worked or
    failed is noted on the queue's row (_record_step); a failure is logged and rolled
    back, and the worker goes on (the step's claim lets it be tried again)."""
    worked = False
    for queue in queues():
        try:
            did = bool(queue.step(session))
        except Exception as exc:  # noqa: BLE001 - a failing step must not stop the worker
            session.rollback()
            error = _error_text(exc)
            log.error("queue %s: step failed: %s", queue.kind, error, exc_info=exc)
            _record_step(session, queue.kind, error)
            continue
        if did:
            _record_step(session, queue.kind, None)
            worked = True
    return worked


@dataclass(frozen=True)
class JobStatus:
    """One line of the admin page: a periodic kind's row, or a queue's row (how its
    steps went) and depth."""

    kind: str
    label: Any
    every: timedelta | None = None
    row: PeriodicJob | None = None
    depth: int | None = None


def job_statuses(session: Session, config: dict) -> list[JobStatus]:
    """Every kind the worker runs, periodic ones with their row (None before the first
    worker started), then the queues with what waits in each. Two queries and one
    COUNT per queue."""
    rows = {r.kind: r for r in session.scalars(select(PeriodicJob))}
    found = [
        JobStatus(job.kind, job.label, period_of(job, config), rows.get(job.kind))
        for job in periodic_jobs()
    ]
    found += [
        JobStatus(q.kind, q.label, row=rows.get(q.kind), depth=q.depth(session)) for q in queues()
    ]
    return found


def work(
    session: Session,
    config: dict,
    stopping: threading.Event,
    *,
    poll: float = 2.0,
    until_idle: bool = False,
) -> None:
    """The worker's loop: a step of each queue, then the periodic jobs that are due,
    again at once while a queue had work, else after `poll` seconds. `stopping` ends
    it between two steps (a step always finishes: its batch commits whole). With
    `until_idle`, it ends as soon as no queue had work."""
    ensure_rows(session)
    while not stopping.is_set():
        worked = run_queues(session)
        run_due(session, config=config)
        if not worked:
            if until_idle:
                return
            stopping.wait(poll)


@register_command
@click.command("worker")
@click.option(
    "--until-idle", is_flag=True, help="Stop once no queue has work (run due jobs first)."
)
@with_appcontext
def worker(until_idle: bool) -> None:
    """Run imports, the outbox, reminders and every periodic job (one or more workers,
    on any hosts: each job runs once per period). SIGTERM or Ctrl-C stops it after
    the step under way."""
    import signal

    stopping = threading.Event()

    def _stop(signum, frame) -> None:
        log.info("worker: stopping after the current step (signal %d)", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    config = current_app.config
    poll = float(config.get("WORKER_POLL_SECONDS") or 2)
    kinds = ", ".join(j.kind for j in periodic_jobs()) or "none"
    click.echo(f"worker: queues {', '.join(q.kind for q in queues()) or 'none'}; jobs {kinds}")
    work(db.session, config, stopping, poll=poll, until_idle=until_idle)
    click.echo("worker: stopped")
