"""Demo assessments for seed-demo, through the public services."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from community.accounts.models import User
from community.accounts.permissions import can
from community.assessments.criteria import add_months
from community.assessments.services import (
    decide_assessment,
    last_complete_month,
    start_assessment,
    submit_assessment,
)

# Demo data is written in the users' language, like the demo's site names.
DEMO_REJECT_REASON = "三楼灭火器已过检验期，更换后请重新提交。"
# Manual scores of the demo, cycled per site and month: (fire_safety, order_hygiene, cooperation).
_DEMO_MANUAL = ((9, 4, 9), (8, 4, 8), (9, 4, 8), (7, 3, 7), (10, 5, 10), (7, 4, 7))


def seed(session: Session, context: dict) -> None:
    """Six approved months for most demo sites; one site's last month waits for the
    police, another's was rejected. Submitted by the site's landlord or company
    (the administrator where the site has neither) and decided by the demo police
    liaison where the station covers the site, else by the administrator.
    Deterministic (relative to today)."""
    sites = [context["sites"][name] for name in sorted(context.get("sites") or {})]
    users = context.get("users") or {}
    police, manager, admin = users.get("police"), users.get("property"), users.get("admin")
    if not sites or police is None:
        return
    landlords = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_({s.landlord_id for s in sites if s.landlord_id}))
        )
    }
    rated = sites if len(sites) < 4 else sites[:-1]  # the last site is not rated yet
    last = last_complete_month()
    for si, site in enumerate(rated):
        submitter = landlords.get(site.landlord_id)
        if submitter is None and manager is not None and can(manager, "assessment.submit", site):
            submitter = manager
        submitter = submitter or admin
        decider = police if can(police, "assessment.decide_site", site) else admin
        if submitter is None or decider is None:
            continue
        for back in range(6, 0, -1):
            month = add_months(last, -(back - 1))
            submitted_at = datetime.combine(add_months(month, 1), datetime.min.time()) + timedelta(
                days=2, hours=9
            )
            assessment, _created = start_assessment(session, submitter, site, month)
            submit_assessment(session, submitter, assessment, at=submitted_at)
            if back == 1 and si == 0:
                continue  # waiting for the police this month
            decided_at = submitted_at + timedelta(days=3)
            if back == 1 and si == 1:
                decide_assessment(
                    session, decider, assessment, "reject", DEMO_REJECT_REASON, {}, at=decided_at
                )
                continue
            fire, order, coop = _DEMO_MANUAL[(si + back) % len(_DEMO_MANUAL)]
            manual = {"fire_safety": fire, "order_hygiene": order, "cooperation": coop}
            decide_assessment(session, decider, assessment, "approve", None, manual, at=decided_at)
