"""Duty rules, by concern: `publishing` (publish with weekly repeats, edit, cancel),
`claims` (claim, wait, cancel a claim, promotion from the waiting list, when a task
takes a claim), `on_duty` (check in, tick checkpoints, check out with a report and
hazards) and `reports` (approve or return reports, close ended duties). Callers
import the public names from here.

The guarantee. A claim's first statement is one conditional UPDATE of the task
(`taken = taken + 1 WHERE taken < capacity AND status = 'published' AND open`):
PostgreSQL takes the row lock and re-checks the WHERE after waiting on a
concurrent claim; SQLite (whose driver begins the transaction at this first
write) serialises writers on the database lock. Only then is the claim inserted,
under a partial unique index (one live claim per task and volunteer). Every
change of `taken` (claim, cancel, promotion from the waiting list, capacity
edit, cancelling the task) goes through a conditional UPDATE of the same task row,
so they serialise per task. A refusal after the UPDATE raises Conflict and the
caller rolls the transaction back (core.htmx.submit does so before answering 409).
"""

from __future__ import annotations

from community.duty.services.claims import (
    Claimability,
    DutyFull,
    cancel_claim,
    cancel_closes,
    check_limits,
    claim_duty,
    claimability,
    claimable_by,
    claimable_now,
    claims_open_at,
    fill_from_waiting,
    join_waiting_list,
    no_show_bar,
    refusal,
)
from community.duty.services.common import when
from community.duty.services.offline import (
    ClientClock,
    KeyReused,
    Refused,
    apply_once,
    claim_flags,
)
from community.duty.services.on_duty import (
    HazardInput,
    check_in,
    check_in_opens,
    check_out,
    visit_checkpoint,
)
from community.duty.services.publishing import (
    MAX_CHECKPOINTS,
    MAX_REPEAT_WEEKS,
    DutyInput,
    cancel_duty,
    checkpoint_line,
    edit_duty,
    parse_checkpoints,
    publish_duty,
    series_rest,
)
from community.duty.services.reports import approve_report, close_duties, reject_report

__all__ = [
    "ClientClock",
    "KeyReused",
    "Refused",
    "apply_once",
    "claim_flags",
    "MAX_CHECKPOINTS",
    "MAX_REPEAT_WEEKS",
    "Claimability",
    "DutyFull",
    "DutyInput",
    "HazardInput",
    "approve_report",
    "cancel_claim",
    "cancel_closes",
    "cancel_duty",
    "check_in",
    "check_in_opens",
    "check_limits",
    "check_out",
    "checkpoint_line",
    "claim_duty",
    "claimability",
    "claimable_by",
    "claimable_now",
    "claims_open_at",
    "close_duties",
    "edit_duty",
    "fill_from_waiting",
    "join_waiting_list",
    "no_show_bar",
    "parse_checkpoints",
    "publish_duty",
    "refusal",
    "reject_report",
    "series_rest",
    "visit_checkpoint",
    "when",
]
