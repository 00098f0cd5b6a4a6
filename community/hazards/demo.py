"""Demo hazards for seed-demo, through the public services."""

from __future__ import annotations

from sqlalchemy.orm import Session

from community.accounts.permissions import can
from community.hazards.services import close_hazard, fix_hazard, reopen_hazard, report_hazard

# (description, severity, final state) — one of each state and one reopened.
_DEMO = (
    ("楼道堆放杂物，堵塞安全出口", "high", "open"),
    ("电动车在楼道内充电", "high", "fixed"),
    ("灭火器压力不足", "medium", "closed"),
    ("电线私拉乱接", "medium", "reopened"),
    ("烟感报警器电池失效", "low", "open"),
)


def seed(session: Session, context: dict) -> None:
    """Hazards in every state (one reopened) at the first demo sites by name that the
    demo police liaison covers; reported by the demo volunteer where the site is in
    their area, else by the police. Fixed by the site's demo landlord when it is
    theirs, else by the police. No photos. Nothing until places provides sites."""
    sites = context.get("sites") or {}
    users = context.get("users") or {}
    volunteer, police, landlord = users.get("volunteer"), users.get("police"), users.get("landlord")
    if police is None:
        return
    chosen = [sites[n] for n in sorted(sites) if can(police, "hazard.create", sites[n])]
    for i, (description, severity, state) in enumerate(_DEMO if chosen else ()):
        site = chosen[i % len(chosen)]
        reporter = volunteer if can(volunteer, "hazard.create", site) else police
        hazard = report_hazard(session, reporter, site, description=description, severity=severity)
        fixer = landlord if landlord is not None and site.landlord_id == landlord.id else police
        if state in ("fixed", "closed", "reopened"):
            fix_hazard(session, fixer, hazard, "已清理并整改")
        if state == "closed":
            close_hazard(session, police, hazard)
        if state == "reopened":
            reopen_hazard(session, police, hazard, "复查时发现仍未整改")
    session.flush()
