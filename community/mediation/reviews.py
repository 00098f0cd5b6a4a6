"""Review kinds of mediation, link-only (the step is taken on the case page, where
the lead assigns mediators or the mediator records the visit): cases waiting for
their team lead's acceptance, and agreements whose follow-up visit (回访) is due,
for the case's mediators and team lead. 高 risk goes first (`urgent`). The title
names the case number and type, never a party."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case

from community.accounts.permissions import can
from community.core.reviews import ReviewKind, by_id, pending_select, register_review_kind
from community.core.timeutil import today
from community.mediation import queries
from community.mediation.forms import KIND_LABELS
from community.mediation.models import MediationCase
from community.mediation.permissions import assigned_scope, lead_scope


def _urgent():
    return case((MediationCase.risk == "high", 1), else_=0)


def _to_accept(user: Any) -> Select:
    return pending_select(
        MediationCase.id,
        MediationCase.number,
        MediationCase.opened_at,
        MediationCase.area_id,
        urgent=_urgent(),
        kind=MediationCase.kind,
    ).where(MediationCase.status == "new", lead_scope(user))


def _followups(user: Any) -> Select:
    return pending_select(
        MediationCase.id,
        MediationCase.number,
        MediationCase.followup_due,
        MediationCase.area_id,
        urgent=_urgent(),
        kind=MediationCase.kind,
    ).where(queries.followup_due_condition(today()), assigned_scope(user))


def _describe(row: Any) -> str:
    label = KIND_LABELS.get(row.kind)
    return f"{row.title} · {label}" if label else str(row.title)


register_review_kind(
    ReviewKind(
        name="mediation_accept",
        label=_l("Mediation cases to accept"),
        order=55,
        reviewer=lambda user: can(user, "nav.mediation.mine"),
        pending=_to_accept,
        describe=_describe,
        get=by_id(queries.get_case),
        view_action="mediation.view",
        decide_action="mediation.accept",
        link=lambda id: url_for("mediation.show", case_id=id),
        action_label=_l("Accept and assign"),
        audit_type="mediationcase",
    )
)
register_review_kind(
    ReviewKind(
        name="mediation_followup",
        label=_l("Mediation follow-ups due"),
        order=56,
        reviewer=lambda user: can(user, "nav.mediation.mine"),
        pending=_followups,
        describe=_describe,
        get=by_id(queries.get_case),
        view_action="mediation.view",
        decide_action="mediation.work",
        link=lambda id: url_for("mediation.show", case_id=id),
        action_label=_l("Record the follow-up visit"),
        audit_type="mediationcase",
    )
)
