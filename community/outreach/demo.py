"""Demo outreach for seed-demo, through the public services: a season of events of
every kind over the last three months at enterprises, sites, communities and a
school, each held with sign-ins, quiz answers and a hand count; upcoming events
(one staffed through a duty, one group visit of the experience corner); visit
requests waiting, scheduled and declined."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from community.accounts import services as accounts
from community.core.timeutil import to_utc
from community.core.timeutil import today as local_today
from community.outreach import services
from community.outreach.models import KINDS
from community.outreach.permissions import requester_orgs

COMMUNITY = "东村社区"
ENTERPRISES = ("东村服装厂", "恒达五金厂", "新源包装有限公司", "宏图物流有限公司")
TITLES = {
    "anti_fraud": "反诈宣传进企业",
    "legal": "普法讲座",
    "anti_drug": "禁毒知识宣传",
    "anti_gang": "扫黑除恶宣传",
    "fire_safety": "消防安全培训",
    "corner_visit": "参观心防体验区",
    "safety_education": "安全教育进校园",
}
ANSWERS = (["b", "a", "b", "a", "a"], ["a", "a", "b", "a", "a"], ["b", "b", "b", "b", "b"])


def _at(day, hour: int) -> datetime:
    return to_utc(datetime.combine(day, time(hour)))


def seed(session: Session, context: dict) -> None:
    users, orgs, areas = context.get("users") or {}, context.get("orgs") or {}, context["areas"]
    police, enterprise_user = users.get("police"), users.get("enterprise")
    station = orgs.get("东城派出所")
    if police is None or station is None:
        return
    community = areas[COMMUNITY]
    enterprises = [
        accounts.create_organization(session, name, "enterprise", community) for name in ENTERPRISES
    ]
    all_sites = context.get("sites") or {}
    sites = [
        all_sites[n]
        for n in sorted(all_sites)
        if all_sites[n].area.path.startswith(station.area.path)
    ][:4]
    corner = services.create_corner(
        session,
        police,
        name="东村心防体验区",
        area_id=community.id,
        site_id=None,
        place="东村社区党群服务中心二楼",
        opens=time(9),
        closes=time(17),
        capacity=30,
    )
    today = local_today()
    for i, kind in enumerate(KINDS * 2):
        day = today - timedelta(days=7 + 6 * i)
        target = {"target": "area", "area_id": community.id}
        if kind == "corner_visit":
            target = {"target": "place", "corner_id": corner.id}
        elif kind == "safety_education":
            target = {"target": "school", "area_id": community.id, "place": "东村小学"}
        elif i % 2 == 0:
            target = {"target": "enterprise", "enterprise_id": enterprises[i % len(enterprises)].id}
        elif sites:
            target = {"target": "site", "site_id": sites[i % len(sites)].id}
        event = services.publish_event(
            session,
            police,
            services.EventInput(
                kind=kind,
                title=TITLES[kind],
                starts_at=_at(day, 10),
                ends_at=_at(day, 11),
                organiser_id=station.id,
                speakers="王警官",
                planned_audience=40,
                **target,
            ),
        )
        for n in range(8 + 3 * (i % 4)):
            signin, _new = services.sign_in(
                session,
                event,
                nonce=f"demo-{event.id}-{n}-nonce",
                device=f"demo-{event.id}-{n}-device",
                employer=ENTERPRISES[n % len(ENTERPRISES)] if n % 3 == 0 else "",
                now=event.starts_at + timedelta(minutes=n),
            )
            if n % 2 == 0:
                services.answer_quiz(session, event, signin, ANSWERS[n % len(ANSWERS)])
        services.close_event(
            session, police, event, hand_count=5 + i, materials=30 + 5 * i, notes="活动顺利开展"
        )
    soon = today + timedelta(days=3)
    services.publish_event(
        session,
        police,
        services.EventInput(
            kind="anti_fraud",
            title="反诈宣传进楼道",
            target="area",
            area_id=community.id,
            starts_at=_at(soon, 19),
            ends_at=_at(soon, 20),
            organiser_id=station.id,
            planned_audience=60,
            staff=4,
            points=10,
        ),
    )
    services.publish_event(
        session,
        police,
        services.EventInput(
            kind="corner_visit",
            title="企业员工参观心防体验区",
            target="place",
            corner_id=corner.id,
            starts_at=_at(soon, 14),
            ends_at=_at(soon, 15),
            organiser_id=station.id,
            planned_audience=25,
        ),
    )
    _requests(session, police, enterprise_user, station, today)


def _requests(session, police, enterprise_user, station, today) -> None:
    if enterprise_user is None:
        return
    org_id = min(requester_orgs(enterprise_user))
    asked = [
        services.request_visit(
            session,
            enterprise_user,
            kind=kind,
            organization_id=org_id,
            site_id=None,
            preferred_from=today + timedelta(days=d),
            preferred_to=today + timedelta(days=d + 14),
            audience=audience,
            note=note,
        )
        for kind, d, audience, note in (
            ("anti_fraud", 5, 120, "新员工入职培训时段"),
            ("fire_safety", 10, 80, ""),
            ("legal", 7, 50, "劳动合同相关"),
            ("anti_drug", 12, 60, ""),
        )
    ]
    start = _at(today + timedelta(days=7), 9)
    services.publish_event(
        session,
        police,
        services.EventInput(
            kind="legal",
            title="普法讲座进企业",
            target="enterprise",
            enterprise_id=org_id,
            starts_at=start,
            ends_at=start + timedelta(hours=1, minutes=30),
            organiser_id=station.id,
            planned_audience=50,
            request_id=asked[2].id,
        ),
    )
    services.decline_request(session, police, asked[3], "本月禁毒宣传已排满，请下月再申请")
