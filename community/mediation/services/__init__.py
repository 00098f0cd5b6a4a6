"""The mediation rules, as plain functions taking a session; they flush, never
commit. Who may take a step is decided in mediation/permissions.py; these enforce
the input and state rules and raise RuleViolation (422, per field), Conflict (409)
or NotPermitted (403)."""

from community.mediation.services.common import team_leads
from community.mediation.services.intake import (
    CaseInput,
    PartyInput,
    name_keys,
    open_case,
    team_for_area,
)
from community.mediation.services.retention import purge_expired_parties
from community.mediation.services.sessions import (
    Booking,
    book_session,
    cancel_session,
    record_session,
)
from community.mediation.services.setup import RoomInput, add_member, save_room
from community.mediation.services.workflow import (
    Assignment,
    Outcome,
    accept_case,
    close_case,
    conclude_case,
    conflict_findings,
    mark_overdue,
    overdue_condition,
    record_followup,
    record_objection,
    reveal_party,
    team_members,
)

__all__ = [
    "purge_expired_parties",
    "Assignment",
    "Booking",
    "CaseInput",
    "Outcome",
    "PartyInput",
    "RoomInput",
    "accept_case",
    "add_member",
    "book_session",
    "cancel_session",
    "close_case",
    "conclude_case",
    "conflict_findings",
    "mark_overdue",
    "name_keys",
    "open_case",
    "overdue_condition",
    "record_followup",
    "record_objection",
    "record_session",
    "reveal_party",
    "save_room",
    "team_for_area",
    "team_leads",
    "team_members",
]
