"""Deterministic demo data; passwords are random on every run (no known passwords)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from community.accounts import services as accounts
from community.accounts.models import Area, Organization, User

DISTRICT = "示范区"
STREETS = {"东城街道": ["东村社区", "南苑社区"], "西城街道": ["西河社区", "北塘社区"]}
# (name, kind, area) — one organization of every kind.
ORGS = [
    ("东城派出所", "police_station", "东城街道"),
    ("东村社区居委会", "community_office", "东村社区"),
    ("东村房东协会", "landlord_association", "东村社区"),
    ("安居物业服务有限公司", "property_company", "东城街道"),
    ("创客电子科技有限公司", "enterprise", "南苑社区"),
    ("东村党员志愿服务队", "volunteer_team", "东村社区"),
    ("东城金牌调解队", "mediation_team", "东城街道"),
]
# (username, display name, role, organization or None, area for org-less roles)
ACCOUNTS = [
    ("admin", "系统管理员", "admin", None, None),
    ("police", "王警官", "police", "东城派出所", None),
    ("coordinator", "李主任", "coordinator", "东村社区居委会", None),
    ("association", "陈会长", "association", "东村房东协会", None),
    ("landlord", "张房东", "landlord", None, "东村社区"),
    ("property", "赵经理", "property_manager", "安居物业服务有限公司", None),
    ("enterprise", "周人事", "enterprise", "创客电子科技有限公司", None),
    ("volunteer", "刘志愿者", "volunteer", "东村党员志愿服务队", None),
    ("mediation_lead", "金调解", "mediator", "东城金牌调解队", None),
    ("mediator", "老娘舅陈伯", "mediator", "东城金牌调解队", None),
]


class DatabaseNotEmpty(RuntimeError):
    pass


def new_password() -> str:
    return secrets.token_urlsafe(12)


def seed(session: Session) -> dict[str, Any]:
    """Create the demo; refuses a database that already has users."""
    if session.scalar(select(func.count()).select_from(User)):
        raise DatabaseNotEmpty("the database already has users; seed-demo only fills an empty one")
    district = accounts.create_area(session, DISTRICT, "district", None)
    areas: dict[str, Area] = {DISTRICT: district}
    for street_name, communities in STREETS.items():
        street = accounts.create_area(session, street_name, "street", district)
        areas[street_name] = street
        for name in communities:
            areas[name] = accounts.create_area(session, name, "community", street)
    orgs: dict[str, Organization] = {}
    for name, kind, area in ORGS:
        orgs[name] = accounts.create_organization(session, name, kind, areas[area])
    result_accounts = []
    users: dict[str, User] = {}
    for username, display, role, org_name, area_name in ACCOUNTS:
        password = new_password()
        user = accounts.create_user(session, username, password, display_name=display)
        org = orgs.get(org_name) if org_name else None
        area = areas.get(area_name) if area_name else None
        accounts.add_membership(session, None, user, role, org, area)
        users[username] = user
        result_accounts.append(
            {
                "username": username,
                "password": password,
                "role": role,
                "org": org_name,
                "area": (org.area.name if org else area_name),
            }
        )
    context = {"areas": areas, "orgs": orgs, "users": users}
    for extend in _extensions():
        extend(session, context)
    session.flush()
    return {
        "accounts": result_accounts,
        "areas": [
            {
                "id": a.id,
                "name": a.name,
                "level": a.level,
                "parent": a.parent.name if a.parent else None,
            }
            for a in sorted(areas.values(), key=lambda a: a.path)
        ],
    }


# Demo data of the feature packages, in dependency order: seed(session, context)
# adds to `context` what the next ones need (sites, buildings, ...). Assessments
# come last: their criteria are computed from admissions, incidents and hazards.
def _extensions():
    from community.assessments import demo as assessments
    from community.duty import demo as duty
    from community.hazards import demo as hazards
    from community.inspections import demo as inspections
    from community.mediation import demo as mediation
    from community.outreach import demo as outreach
    from community.places import demo as places
    from community.residents import demo as residents

    return [
        places.seed,
        inspections.seed,
        hazards.seed,
        residents.seed,
        assessments.seed,
        duty.seed,
        mediation.seed,
        outreach.seed,
    ]
