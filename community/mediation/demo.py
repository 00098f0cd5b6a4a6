"""Demo mediation for seed-demo: the station's gold-medal mediation team (its lead
and social mediators, two of them demo logins), three rooms (the flagship at the
station, outstations at two police posts) and three months of cases in every
state — to accept (one overdue), in mediation with sessions booked, agreed with
the follow-up due or done, referred, withdrawn, closed.

Cases go through the services; their past (opening, acceptance, conclusion days,
held sessions) is then moved back in bulk, as it would stand by now."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from community.accounts.models import User
from community.core.timeutil import now_local, to_utc, utcnow
from community.core.timeutil import today as local_today
from community.mediation import services
from community.mediation.models import CaseEvent, MediationCase, MediationSession

EVENT_DAYS = {
    "opened": "opened_at",
    "accepted": "accepted_at",
    "concluded": "concluded_at",
    "followup": "followup_at",
    "closed": "closed_at",
}

TEAM = "东城金牌调解队"
LEAD, MEDIATOR = "mediation_lead", "mediator"
OTHERS = [("陈阿姨", "social"), ("周老师", "part_time"), ("吴大伯", "social")]
ROOMS = [
    ("东城派出所金牌调解室", "东城街道", "东城派出所一楼", "flagship", time(8, 30), time(20, 0)),
    ("东村警务室调解室", "东村社区", "东村警务室", "outstation", time(9, 0), time(17, 30)),
    ("南苑警务室调解室", "南苑社区", "南苑警务室", "outstation", time(9, 0), time(17, 30)),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
SUMMARIES = {
    "rent": "租客退租后房东以房屋损坏为由扣留押金，双方争执不下。",
    "neighbour": "楼上漏水影响楼下，双方多次争吵。",
    "wages": "工人称包工头拖欠三个月工资。",
    "property": "业主与物业就停车费标准发生纠纷。",
    "traffic": "电动车与行人碰擦，就医药费赔偿有分歧。",
    "family": "夫妻因房屋分配发生争执。",
    "consumer": "顾客与商户就预付卡退款发生纠纷。",
    "other": "邻里因堆放杂物占用通道发生纠纷。",
}
# (days ago opened, kind, risk, community, final state)
CASES = [
    (85, "rent", "medium", "东村社区", "closed"),
    (80, "wages", "high", "东村社区", "closed"),
    (72, "neighbour", "low", "南苑社区", "referred"),
    (64, "property", "medium", "东村社区", "closed"),
    (58, "traffic", "low", "南苑社区", "withdrawn"),
    (50, "rent", "high", "东村社区", "followup_due"),
    (40, "family", "medium", "南苑社区", "followup_due"),
    (33, "consumer", "low", "东村社区", "agreement"),
    (20, "wages", "high", "东村社区", "referred"),
    (12, "rent", "medium", "东村社区", "accepted"),
    (6, "neighbour", "high", "南苑社区", "accepted"),
    (5, "other", "low", "东村社区", "new"),  # overdue: accept within 3 days
    (1, "rent", "high", "东村社区", "new"),
    (0, "property", "medium", "南苑社区", "new"),
]


def _person(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 3) % len(GIVEN)]


def _phone(i: int) -> str:
    return f"139{(57000000 + i * 7919) % 100000000:08d}"


def seed(session: Session, context: dict) -> None:
    areas, users = context["areas"], context["users"]
    team = context["orgs"][TEAM]
    lead, first = users[LEAD], users[MEDIATOR]
    services.add_member(session, None, team, lead, "lead", "professional")
    services.add_member(session, None, team, first, "mediator", "social")
    others = []
    for i, (name, category) in enumerate(OTHERS):
        # "!" is no scrypt hash: these demo people cannot log in.
        user = User(username=f"tj{i + 1:02d}", display_name=name, password_hash="!")  # nosec B106 # no hash: cannot log in
        session.add(user)
        session.flush()
        services.add_member(session, None, team, user, "mediator", category)
        others.append(user)
    rooms = [
        services.save_room(
            session,
            None,
            services.RoomInput(name, areas[area], address, kind, opens, closes),
        )
        for name, area, address, kind, opens, closes in ROOMS
    ]
    police = users["police"]
    for index, (ago, kind, risk, community, final) in enumerate(CASES):
        _case(
            session,
            index,
            ago,
            kind,
            risk,
            areas[community],
            final,
            police,
            lead,
            [first, *others],
            rooms,
        )
    session.flush()
    # What the worker would have found by now: the overdue cases, marked and notified.
    services.mark_overdue(session)


def _case(session, index, ago, kind, risk, area, final, police, lead, mediators, rooms) -> None:
    parties = [
        services.PartyInput(_person(index * 2), _phone(index * 2), "applicant"),
        services.PartyInput(_person(index * 2 + 1), _phone(index * 2 + 1), "respondent"),
    ]
    case = services.open_case(
        session,
        police,
        services.CaseInput(
            kind,
            "police" if index % 2 else "visit",
            area,
            SUMMARIES[kind],
            risk,
            parties,
            amount=(index + 1) * 800,
        ),
    )
    # The demo mediator (a login) has the open work; the others the rest.
    if final in ("accepted", "followup_due", "agreement"):
        mediator = mediators[0]
    else:
        mediator = mediators[1 + index % (len(mediators) - 1)]
    if final != "new":
        services.accept_case(session, lead, case, services.Assignment(mediator.id))
    if final == "accepted":
        start = now_local().replace(hour=9 + index % 6, minute=0, second=0, microsecond=0)
        start += timedelta(days=1 + index % 4)
        services.book_session(
            session,
            lead,
            case,
            services.Booking(
                rooms[index % len(rooms)], mediator.id, start, start + timedelta(hours=1)
            ),
        )
    if final in ("closed", "followup_due", "agreement"):
        services.conclude_case(
            session,
            mediator,
            case,
            services.Outcome(
                "agreement",
                terms="双方自愿达成协议，一方于十日内支付款项。",
                settled_amount=(index + 1) * 600,
                payment_schedule="一次付清",
            ),
        )
    elif final == "referred":
        services.conclude_case(
            session,
            mediator,
            case,
            services.Outcome("referred", referral="court", reason="双方分歧较大，建议诉讼解决。"),
        )
    elif final == "withdrawn":
        services.conclude_case(
            session, mediator, case, services.Outcome("withdrawn", reason="申请人撤回。")
        )
    if final == "closed":
        services.record_followup(
            session, mediator, case, performed=True, satisfied=True, note="协议已履行"
        )
        services.close_case(session, mediator, case)
    _move_back(session, case, ago, final, rooms[index % len(rooms)], mediator, index)


def _move_back(session, case: MediationCase, ago: int, final: str, room, mediator, index) -> None:
    """Dates as they would stand: opened `ago` days back, accepted a day later,
    concluded two weeks after (a held session the day before)."""
    if not ago:
        return
    now = utcnow()
    opened = now - timedelta(days=ago)
    day = local_today() - timedelta(days=ago)
    values = {"opened_at": opened, "accept_due": day + timedelta(days=3)}
    if final != "new":
        values.update(accepted_at=opened + timedelta(days=1), conclude_due=day + timedelta(days=31))
    concluded = opened + timedelta(days=min(15, max(ago - 1, 1)))
    if final not in ("new", "accepted"):
        values.update(concluded_at=concluded)
        if case.outcome == "agreement":
            values["followup_due"] = day + timedelta(days=min(15, max(ago - 1, 1)) + 30)
        held = datetime.combine(day + timedelta(days=2), time(10 + index % 6))
        session.add(
            MediationSession(
                case_id=case.id,
                room_id=room.id,
                mediator_id=mediator.id,
                starts_at=to_utc(held),
                ends_at=to_utc(held + timedelta(hours=1)),
                status="held",
                notes="双方陈述，调解员释法明理。",
            )
        )
    if final == "closed":
        values.update(
            followup_at=concluded + timedelta(days=30), closed_at=concluded + timedelta(days=31)
        )
    session.execute(update(MediationCase).where(MediationCase.id == case.id).values(**values))
    # The timeline's lines on the same days.
    for kind, column in EVENT_DAYS.items():
        if column in values:
            session.execute(
                update(CaseEvent)
                .where(CaseEvent.case_id == case.id, CaseEvent.kind == kind)
                .values(at=values[column])
            )
