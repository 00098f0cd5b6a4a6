"""Read side of the compliance page: the month's reporters at sites in scope with
their timely and late reports, balances, cards and proposals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from community.accounts.models import Organization, User
from community.residents.compliance.models import PointsEntry, YellowCard, YellowCardProposal
from community.residents.compliance.permissions import at_compliance_site


@dataclass
class ComplianceRow:
    """A landlord (kind "user") or property company (kind "org") that reported at
    sites in the viewer's scope in the month."""

    kind: str
    id: int
    name: str
    timely: int
    late: int
    balance: int  # all points to the end of the month, at sites in scope
    card: Any = None  # the month's YellowCard
    proposed: bool = False

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.id}"


def compliance_rows(session: Session, user: Any, month, threshold: int) -> list[ComplianceRow]:
    """The month's reporters at sites in the user's scope with timely and late
    counts and their balance (SUM of the ledger up to the month), most late first;
    a card is proposed from `threshold` late reports when none was issued. Four
    queries whatever the number of rows."""
    in_month = PointsEntry.month == month
    rows = session.execute(
        select(
            PointsEntry.user_id,
            PointsEntry.organization_id,
            func.sum(case((in_month & (PointsEntry.reason == "timely"), 1), else_=0)),
            func.sum(case((in_month & (PointsEntry.reason == "late"), 1), else_=0)),
            func.sum(PointsEntry.points),
        )
        .where(PointsEntry.month <= month, at_compliance_site(user, PointsEntry.site_id))
        .group_by(PointsEntry.user_id, PointsEntry.organization_id)
        .having(func.sum(case((in_month, 1), else_=0)) > 0)
    ).all()
    user_ids = {r[0] for r in rows if r[0] is not None}
    organization_ids = {r[1] for r in rows if r[1] is not None}
    users = (
        dict(session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all())
        if user_ids
        else {}
    )
    orgs = (
        dict(
            session.execute(
                select(Organization.id, Organization.name).where(
                    Organization.id.in_(organization_ids)
                )
            ).all()
        )
        if organization_ids
        else {}
    )
    cards = {}
    dismissed: set[str] = set()
    if rows:
        for card in session.scalars(
            select(YellowCard).where(
                YellowCard.month == month,
                YellowCard.user_id.in_(user_ids) | YellowCard.organization_id.in_(organization_ids),
            )
        ):
            key = f"user-{card.user_id}" if card.user_id else f"org-{card.organization_id}"
            cards[key] = card
        # A proposal the police dismissed is not proposed again that month.
        for uid, oid in session.execute(
            select(YellowCardProposal.user_id, YellowCardProposal.organization_id).where(
                YellowCardProposal.month == month,
                YellowCardProposal.status == "dismissed",
                YellowCardProposal.user_id.in_(user_ids)
                | YellowCardProposal.organization_id.in_(organization_ids),
            )
        ):
            dismissed.add(f"user-{uid}" if uid else f"org-{oid}")
    result = []
    for uid, oid, timely, late, balance in rows:
        kind, target = ("user", uid) if uid is not None else ("org", oid)
        name = users.get(uid, "") if uid is not None else orgs.get(oid, "")
        row = ComplianceRow(kind, target, name, int(timely), int(late), int(balance))
        row.card = cards.get(row.key)
        row.proposed = row.card is None and row.late >= threshold and row.key not in dismissed
        result.append(row)
    return sorted(result, key=lambda r: (-r.late, r.name, r.key))
