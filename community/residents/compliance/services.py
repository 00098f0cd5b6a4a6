"""The compliance rules: every report made by a landlord or property company
writes a line of the points ledger (timely or late), a late one proposes a yellow
card once the month's late lines reach the threshold, and the police issue or
dismiss cards. Plain functions taking a session; they flush, never commit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from community.accounts.models import Membership, Organization
from community.accounts.services import member_user_ids
from community.core import audit
from community.core.errors import Conflict
from community.core.notify import notify, register_message
from community.core.reviews import require_reason
from community.core.timeutil import utcnow
from community.places.models import Site
from community.residents import rollups
from community.residents.compliance.models import PointsEntry, YellowCard, YellowCardProposal

audit.register_actions(
    {
        "yellow_card.issued": _l("Yellow card issued"),
        "yellow_card_proposal.issued": _l("Proposed yellow card issued"),
        "yellow_card_proposal.dismissed": _l("Proposed yellow card dismissed"),
    }
)

# Notices (core.notify): with the card's reason and whom to ask; "yellow-card-issued"
# (month only) stays registered for the notices written before.
YELLOW_CARD_NOTICE = "yellow-card-with-reason"
register_message("yellow-card-issued", _l("A yellow card was issued to you for %(month)s."))
register_message(
    YELLOW_CARD_NOTICE,
    _l(
        "A yellow card was issued to you for %(month)s. Reason: %(reason)s. "
        "Questions: contact %(contact)s."
    ),
)


@dataclass(frozen=True)
class LedgerReport:
    """A report as the compliance ledger sees it: which residence, at which site,
    through which channel (None: by nobody who runs the site), late or not, made on
    which (local) day, and whether it reports the move-in or the move-out."""

    residence_id: int
    site: Site
    channel: str | None
    late: bool
    reported_on: date
    event: str = "report"


def ledger_target(site: Site, channel: str | None) -> dict[str, int] | None:
    """Who a report through `channel` counts for: the site's landlord (landlord
    channel) or its property company (property_manager channel); None for the
    other channels (police, enterprise, self-declaration), which earn nothing."""
    if channel == "landlord" and site.landlord_id is not None:
        return {"user_id": site.landlord_id}
    if channel == "property_manager" and site.company_id is not None:
        return {"organization_id": site.company_id}
    return None


def record_reports(session: Session, reports: Iterable[LedgerReport]) -> int:
    """The compliance side of reports — the one rule for the report form, the
    move-out and the spreadsheet import: each report counting for a landlord or
    company (ledger_target) writes one points line (POINTS_LATE, reason "late",
    when late, else POINTS_TIMELY, "timely") in the month it was made, is counted
    in its area's monthly timely/late rollup, and a late one proposes a yellow card
    once the target's late lines of the month reach the threshold (_propose_card).
    Lines are written with one executemany and the rollups bumped once per area,
    month and kind, so a chunk of 2,000 imported rows costs a handful of
    statements. Returns how many lines were written."""
    config = current_app.config
    points = {True: int(config["POINTS_LATE"]), False: int(config["POINTS_TIMELY"])}
    now = utcnow()
    lines: list[dict[str, Any]] = []
    counted: dict[tuple[int, date, bool], int] = {}
    proposals: dict[tuple[tuple[str, int], date], int] = {}
    # A chunk's reports come from a few sites: each site's target is read once.
    targets: dict[tuple[int, str | None], dict[str, int] | None] = {}
    for report in reports:
        site = report.site
        found = (site.id, report.channel)
        if found not in targets:
            targets[found] = ledger_target(site, report.channel)
        target = targets[found]
        if target is None:
            continue
        month = report.reported_on.replace(day=1)
        late = bool(report.late)
        lines.append(
            {
                "user_id": target.get("user_id"),
                "organization_id": target.get("organization_id"),
                "residence_id": report.residence_id,
                "event": report.event,
                "site_id": found[0],
                "month": month,
                "points": points[late],
                "reason": "late" if late else "timely",
                "created_at": now,
            }
        )
        key = (site.area_id, month, report.late)
        counted[key] = counted.get(key, 0) + 1
        if late:
            proposals.setdefault((next(iter(target.items())), month), site.area_id)
    if not lines:
        return 0
    session.execute(PointsEntry.__table__.insert(), lines)
    for (area_id, month, late), count in counted.items():
        rollups.report_counted(session, area_id, month, late, count)
    for ((column, value), month), area_id in proposals.items():
        _propose_card(session, {column: value}, month, area_id)
    return len(lines)


def _late_count(session: Session, column: str, value: int, month: date) -> int:
    """Late ledger lines of one landlord (column "user_id") or company
    ("organization_id") in `month`."""
    return (
        session.scalar(
            select(func.count())
            .select_from(PointsEntry)
            .where(
                getattr(PointsEntry, column) == value,
                PointsEntry.month == month,
                PointsEntry.reason == "late",
            )
        )
        or 0
    )


def _propose_card(session: Session, target: dict[str, int], month: date, area_id: int) -> None:
    """Propose a yellow card to the target (a landlord or company) once its late
    reports of `month` reach COMPLIANCE_YELLOW_CARD_LATE and it has no card nor
    proposal for that month yet; the police decide it in the review queue."""
    session.flush()
    column, value = next(iter(target.items()))
    # The card or proposal already there first: one indexed lookup each, where the
    # count walks the month's lines (an import of 100,000 late rows asks per chunk).
    for model in (YellowCard, YellowCardProposal):
        if session.scalar(
            select(model.id).where(getattr(model, column) == value, model.month == month)
        ):
            return
    late = _late_count(session, column, value, month)
    if late < int(current_app.config["COMPLIANCE_YELLOW_CARD_LATE"]):
        return
    try:
        with session.begin_nested():
            session.add(YellowCardProposal(**target, month=month, area_id=area_id))
    except IntegrityError:  # a concurrent late report proposed it first
        pass


def issue_yellow_card(
    session: Session,
    police: Any,
    *,
    month: date,
    reason: str,
    user_id: int | None = None,
    organization_id: int | None = None,
) -> YellowCard:
    """A yellow card (黄牌警告) to a landlord (user_id) or property company
    (organization_id) for `month`, with the reason they read. RuleViolation("reason")
    when it is empty or too long; Conflict when the target already has a card
    for that month. Who may issue, and to whom, is decided by the view
    (compliance.permissions and the compliance rows in the user's scope)."""
    reason = require_reason(reason, _("Say why the yellow card is issued."))
    month = month.replace(day=1)
    existing = session.scalar(
        select(YellowCard.id).where(
            YellowCard.month == month,
            YellowCard.user_id == user_id if user_id else YellowCard.user_id.is_(None),
            YellowCard.organization_id == organization_id
            if organization_id
            else YellowCard.organization_id.is_(None),
        )
    )
    if existing is not None:
        raise Conflict(_("A yellow card was already issued for this month."))
    card = YellowCard(
        user_id=user_id,
        organization_id=organization_id,
        month=month,
        reason=reason,
        issued_by_id=police.id,
        issued_at=utcnow(),
    )
    session.add(card)
    session.flush()
    # A proposal for the same target and month is answered by this card.
    session.execute(
        update(YellowCardProposal)
        .where(
            YellowCardProposal.month == month,
            YellowCardProposal.status == "pending",
            YellowCardProposal.user_id == user_id
            if user_id
            else YellowCardProposal.organization_id == organization_id,
        )
        .values(status="issued", decided_by_id=police.id, decided_at=card.issued_at)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        police,
        "yellow_card.issued",
        card,
        {"user_id": user_id, "organization_id": organization_id, "month": month.isoformat()},
    )
    # The landlord, or the company's property managers.
    recipients = [user_id] if user_id else member_user_ids(session, [organization_id])
    notify(
        session,
        recipients,
        YELLOW_CARD_NOTICE,
        key=f"yellow-card:{card.id}",
        month=month.strftime("%Y-%m"),
        reason=reason.rstrip("。.!！ "),
        contact=police_contact(session, police),
    )
    return card


def police_contact(session: Session, police: Any) -> str:
    """Whom a carded landlord or company asks: the issuing officer and their police
    station(s) ("王警官 · 东村派出所"). Not their phone: a user's phone is personal
    data (encrypted), and a notice's parameters are stored in clear."""
    stations = session.scalars(
        select(Organization.name)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == police.id, Membership.role == "police")
        .order_by(Organization.name)
    )
    return " · ".join(p for p in (police.display_name, *stations) if p)


def proposal_reason(session: Session, proposal: YellowCardProposal) -> str:
    """The reason a proposed card carries: the month's late reports (no names)."""
    column = "user_id" if proposal.user_id else "organization_id"
    late = _late_count(session, column, getattr(proposal, column), proposal.month)
    return _(
        "%(count)d late residence reports in %(month)s.",
        count=late,
        month=proposal.month.strftime("%Y-%m"),
    )


def _decide_proposal(
    session: Session, police: Any, proposal: YellowCardProposal, status: str, reason: str | None
) -> None:
    """pending -> issued|dismissed with one conditional UPDATE: Conflict when someone
    decided it (or issued the month's card on the compliance page) first."""
    result = session.execute(
        update(YellowCardProposal)
        .where(YellowCardProposal.id == proposal.id, YellowCardProposal.status == "pending")
        .values(status=status, decided_by_id=police.id, decided_at=utcnow(), reason=reason)
        .execution_options(synchronize_session=False)
    )
    session.expire(proposal, ["status", "decided_by_id", "decided_at", "reason"])
    if result.rowcount != 1:
        raise Conflict(_("This yellow card proposal was already decided."))


def issue_proposed_card(session: Session, police: Any, proposal: YellowCardProposal) -> YellowCard:
    """Issue the proposed yellow card, with the month's late reports as its reason.
    Conflict when the proposal was already decided or the month's card exists."""
    _decide_proposal(session, police, proposal, "issued", None)
    card = issue_yellow_card(
        session,
        police,
        month=proposal.month,
        reason=proposal_reason(session, proposal),
        user_id=proposal.user_id,
        organization_id=proposal.organization_id,
    )
    audit.record(session, police, "yellow_card_proposal.issued", proposal, {"card_id": card.id})
    return card


def dismiss_proposal(
    session: Session, police: Any, proposal: YellowCardProposal, reason: str
) -> YellowCardProposal:
    """No card for that month: the proposal is dismissed with the police's reason
    (it is not proposed again for the month). RuleViolation("reason") when empty or
    too long; Conflict when already decided."""
    reason = require_reason(reason, _("Say why no yellow card is issued."))
    _decide_proposal(session, police, proposal, "dismissed", reason)
    audit.record(
        session,
        police,
        "yellow_card_proposal.dismissed",
        proposal,
        {"month": proposal.month.isoformat()},
    )
    session.flush()
    return proposal
