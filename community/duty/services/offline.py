"""On-duty steps sent from the phone's queue: each carries an idempotency key made by
the phone, the time it was made (the phone's clock), the phone's clock when it was
sent and, with a position, the GPS fix's own time.

A key is applied once per user (duty_offline_action, UNIQUE (user_id, key)): the row
is inserted before the step runs, so a concurrent copy waits on it (PostgreSQL) or
finds it (SQLite's write lock), and gets the first answer back. An identical resend
(same fingerprint) gets that first answer; the same key with other content is
refused (KeyReused, 409). A refused step writes nothing, its key included (the
request's transaction is rolled back): sending it again is refused again, for the
same reason, since what refused it (a cancelled duty, a claim given up) stays so.

Times. The phone's clock error is the server's time at receipt minus the phone's
clock at send (`sent_at`); beyond CLOCK_TOLERANCE the phone's clock is off: the
action's time is corrected by that error and flagged `clock_off`. A GPS fix whose
own time differs from the action's by more than the tolerance is flagged
`fix_time_off`. The corrected time must lie between when the step became possible
(check-in opening; the check-in for ticks and check-out) and now: outside, it is
moved to the bound and flagged `time_clamped`. An action reaching the server more
than MAX_DELAY after it was made is refused (`too_old`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from community.core.errors import Conflict
from community.core.timeutil import utcnow
from community.duty.models import DutyClaim, DutyOfflineAction, DutyTask

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CLOCK_TOLERANCE = timedelta(minutes=2)
MAX_DELAY = timedelta(hours=24)
# Epoch milliseconds a phone may send (2020 .. 2100); anything else is no time.
_MS_RANGE = (1_577_836_800_000, 4_102_444_800_000)


class Refused(Conflict):
    """The step can no longer be applied; `reason` is the code the phone shows
    (duty_cancelled, claim_cancelled, no_show, not_on_duty, already_reported,
    too_old, key_reused, refused)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class KeyReused(Refused):
    def __init__(self) -> None:
        super().__init__(
            "key_reused", _("This action was already sent with other content: not applied.")
        )


@dataclass
class ClientClock:
    """The phone's times of one action (UTC, naive; None when not sent)."""

    made_at: datetime | None = None
    sent_at: datetime | None = None
    fix_at: datetime | None = None

    @classmethod
    def from_millis(cls, made: Any, sent: Any, fix: Any) -> ClientClock:
        return cls(read_millis(made), read_millis(sent), read_millis(fix))


@dataclass
class Timing:
    at: datetime
    skew_s: int | None = None
    flags: list[str] = field(default_factory=list)


@dataclass
class Applied:
    """What a keyed step answered: `replay` when the key had been applied before."""

    result: Any
    timing: Timing | None
    action: DutyOfflineAction
    replay: bool = False


def read_millis(value: Any) -> datetime | None:
    """Epoch milliseconds (as the phone's Date.now() and a fix's timestamp give
    them) as a naive UTC datetime; None for anything else."""
    try:
        ms = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    if not _MS_RANGE[0] <= ms <= _MS_RANGE[1]:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).replace(tzinfo=None)


def fingerprint(action: str, claim_id: int, fields: Iterable[tuple[str, str]]) -> str:
    """The request's content as a hash: the action, the claim and the (name, value)
    pairs that make the step (a photo as its bytes' SHA-256), in name order."""
    digest = hashlib.sha256(f"{action}|{claim_id}".encode())
    for name, value in sorted(fields):
        digest.update(b"\x00" + name.encode() + b"\x01" + value.encode())
    return digest.hexdigest()


def resolve_time(clock: ClientClock, earliest: datetime, now: datetime | None = None) -> Timing:
    """The time an action counts at (see the module doc). Refused("too_old")."""
    now = now or utcnow()
    if clock.made_at is None:
        return Timing(now)
    flags: list[str] = []
    at = clock.made_at
    skew_s = None
    if clock.sent_at is not None:
        skew = now - clock.sent_at
        skew_s = int(skew.total_seconds())
        if abs(skew) > CLOCK_TOLERANCE:
            flags.append("clock_off")
            at = at + skew
    if clock.fix_at is not None and abs(clock.fix_at - clock.made_at) > CLOCK_TOLERANCE:
        flags.append("fix_time_off")
    if now - at > MAX_DELAY:
        raise Refused("too_old", _("Sent more than 24 hours after it was made: not applied."))
    if at > now:
        if at - now > CLOCK_TOLERANCE:
            flags.append("time_clamped")
        at = now
    if at < earliest:
        at = earliest
        flags.append("time_clamped")
    return Timing(at, skew_s, flags)


def earliest_for(claim: DutyClaim, action: str, opens: datetime) -> datetime:
    """When the action became possible: check-in opening; for ticks and the
    check-out, the check-in."""
    if action == "check_in" or claim.checked_in_at is None:
        return opens
    return claim.checked_in_at


def reason_for(session: Session, claim: DutyClaim, exc: Conflict) -> Refused:
    """Why a step on `claim` was refused, as a reason code the phone shows."""
    if isinstance(exc, Refused):
        return exc
    status, task_status = session.execute(
        select(DutyClaim.status, DutyTask.status)
        .join(DutyTask, DutyTask.id == DutyClaim.task_id)
        .where(DutyClaim.id == claim.id)
    ).one()
    if task_status == "cancelled":
        return Refused("duty_cancelled", _("This duty was cancelled: not applied."))
    if status == "cancelled":
        return Refused("claim_cancelled", _("You gave up this duty: not applied."))
    if status == "no_show":
        return Refused("no_show", _("This duty was closed as a no-show: not applied."))
    if status in ("reported", "approved", "rejected"):
        return Refused("already_reported", _("This duty was already reported: not applied."))
    if status != "on_duty":
        return Refused("not_on_duty", exc.message)
    return Refused("refused", exc.message)


def _existing(session: Session, user_id: int, key: str) -> DutyOfflineAction | None:
    return session.scalar(
        select(DutyOfflineAction).where(
            DutyOfflineAction.user_id == user_id, DutyOfflineAction.key == key
        )
    )


def _replay(row: DutyOfflineAction, print_: str) -> Applied:
    if row.fingerprint != print_:
        raise KeyReused()
    return Applied(result=None, timing=None, action=row, replay=True)


def apply_once(
    session: Session,
    user: Any,
    claim: DutyClaim,
    *,
    key: str,
    print_: str,
    action: str,
    clock: ClientClock,
    earliest: datetime,
    step: Callable[[Timing], Any],
) -> Applied:
    """Apply `step(timing)` once for (user, key). Applied(replay=True) for an
    identical resend; KeyReused for the same key with other content; Refused with a
    reason code for a step that can no longer be applied (the caller rolls back)."""
    row = _existing(session, user.id, key)
    if row is not None:
        return _replay(row, print_)
    now = utcnow()
    timing = resolve_time(clock, earliest, now)
    row = DutyOfflineAction(
        user_id=user.id,
        key=key,
        fingerprint=print_,
        action=action,
        claim_id=claim.id,
        status=200,
        client_at=clock.made_at,
        client_sent_at=clock.sent_at,
        fix_at=clock.fix_at,
        applied_at=timing.at,
        server_at=now,
        clock_skew_s=timing.skew_s,
        flags=" ".join(timing.flags) or None,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # A concurrent copy of this request committed the key first.
        first = _existing(session, user.id, key)
        if first is None:
            raise
        return _replay(first, print_)
    try:
        result = step(timing)
    except Conflict as exc:
        raise reason_for(session, claim, exc) from exc
    row.result = {"at": timing.at.isoformat() + "Z", "flags": timing.flags}
    session.flush()
    return Applied(result=result, timing=timing, action=row)


def claim_flags(session: Session, claim_ids: Iterable[int]) -> dict[int, set[str]]:
    """The time flags of the claims' applied offline steps (for the coordinator)."""
    ids = list(claim_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(DutyOfflineAction.claim_id, DutyOfflineAction.flags).where(
            DutyOfflineAction.claim_id.in_(ids), DutyOfflineAction.flags.is_not(None)
        )
    )
    out: dict[int, set[str]] = {}
    for claim_id, flags in rows:
        out.setdefault(claim_id, set()).update(flags.split())
    return out
