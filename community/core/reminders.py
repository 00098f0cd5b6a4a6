"""Reminders sent by `flask send-reminders` (cron, every few minutes), contributed
by the features: `register_reminder(fn)` at import time, where

    fn(session: Session, now: datetime) -> int

notifies (core.notify.notify with a `key`, so a run repeated in the same period
adds nothing) and returns how many notices it added. `now` is naive UTC. A
reminder flushes, never commits; the command commits once after all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

Reminder = Callable[[Session, datetime], int]
_REMINDERS: dict[str, Reminder] = {}


def register_reminder(fn: Reminder, name: str | None = None) -> Reminder:
    """Register `fn` (usable as a decorator); its name defaults to module.function."""
    _REMINDERS[name or f"{fn.__module__}.{fn.__qualname__}"] = fn
    return fn


def run_reminders(session: Session, now: datetime) -> dict[str, int]:
    """Run every registered reminder; {name: notices added}."""
    return {name: int(fn(session, now) or 0) for name, fn in sorted(_REMINDERS.items())}
