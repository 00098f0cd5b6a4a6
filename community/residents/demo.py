"""Demo residents for seed-demo: a few registrations through the public services
(every state, each channel once), and `bulk(session, n)` for `seed-demo
--residents N`: many residences written with Core executemany inserts (encrypted by
the column type and hashed in Python, as the services would), for benchmarks and big lists."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from community.accounts.models import User
from community.core.crypto import lookup_hash
from community.core.timeutil import local_date, utcnow
from community.core.timeutil import today as local_today
from community.core.validators import check_digit
from community.places.models import Building, Room, Site
from community.residents import queries, rules, services
from community.residents.models import CHANNELS, Person, Residence, new_reference

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
)
HOMETOWNS = ("安徽阜阳", "河南信阳", "四川达州", "江西上饶", "贵州毕节", "湖南邵阳", None)


def demo_id_number(i: int, region: str = "330302") -> str:
    """The i-th synthetic ID number: birth dates from 1960 on, 1000 serials per day,
    with a valid check digit (unique for i < 1000 x 20,000)."""
    born = date(1960, 1, 1) + timedelta(days=(i // 1000) % 20000)
    first17 = f"{region}{born:%Y%m%d}{i % 1000:03d}"
    return first17 + check_digit(first17)


def _name(i: int) -> str:
    return (
        SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 20) % len(GIVEN)] + GIVEN[(i // 7) % len(GIVEN)]
    )


def seed(session: Session, context: dict) -> None:
    """Six registrations at the demo landlord's first site: pending (landlord, one
    late), verified (police, at once), verified then moved out, rejected with a
    reason, and a QR self-declaration. Nothing without sites."""
    users, sites = context.get("users") or {}, context.get("sites") or {}
    landlord, police = users.get("landlord"), users.get("police")
    site = next((s for s in sites.values() if landlord and s.landlord_id == landlord.id), None)
    if site is None or police is None:
        return
    rooms = queries.site_rooms(session, site)[:6]
    today = local_today()
    plan = [
        (landlord, "landlord", "pending", 1),
        (landlord, "landlord", "pending", 9),
        (police, "police", "verified", 20),
        (landlord, "landlord", "moved_out", 60),
        (landlord, "landlord", "rejected", 2),
        (None, "self_declared", "pending", 0),
    ]
    for i, (reporter, channel, state, days_ago) in enumerate(plan):
        residence = services.report_residence(
            session,
            reporter,
            rooms[i % len(rooms)],
            name=_name(i),
            id_number=demo_id_number(i),
            phone=f"138{i:08d}",
            move_in=today - timedelta(days=days_ago),
            hometown=HOMETOWNS[i % len(HOMETOWNS)],
            channel=channel,
        )
        if state == "moved_out":
            services.verify_residence(session, police, residence)
            services.move_out(session, landlord, residence, today - timedelta(days=5))
        elif state == "rejected":
            services.reject_residence(
                session, police, residence, "房间号与实际不符，请核对后重新登记"
            )
    session.flush()


def bulk(session: Session, n: int, *, chunk: int = 5000, seed: int = 7) -> int:
    """Add `n` residences (one new person each) over every demo room: ~60% verified
    and living there, 10% moved out, 20% pending, 10% rejected; every channel; about
    one in seven late. Core executemany inserts, no audit events (demo data).
    Returns the number written."""
    rnd = random.Random(seed)
    rooms = session.execute(
        select(Room.id, Site.landlord_id).join(Room.building).join(Building.site).order_by(Room.id)
    ).all()
    if not rooms or n <= 0:
        return 0
    named = dict(session.execute(select(User.username, User.id)).all())
    police, manager, hr = named.get("police"), named.get("property"), named.get("enterprise")
    start = (session.scalar(select(Person.id).order_by(Person.id.desc()).limit(1)) or 0) + 1
    now, today = utcnow(), local_today()
    person_table, residence_table = Person.__table__, Residence.__table__
    deadline = rules.deadline_days()

    def reporters(landlord_id):
        return {
            "landlord": landlord_id or police,
            "property_manager": manager,
            "enterprise": hr,
            "police": police,
        }

    written = 0
    while written < n:
        size = min(chunk, n - written)
        people, stays = [], []
        for k in range(written, written + size):
            i = start + k
            number = demo_id_number(i, region="330399")
            born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
            people.append(
                {
                    # Plain values: the column type (EncryptedString) encrypts them
                    # with core.crypto.encrypt on the way in, Core inserts too.
                    "id_number": number,
                    "id_hash": lookup_hash(number),
                    "gender": "M" if int(number[16]) % 2 else "F",
                    "birth_date": born,
                    "created_at": now,
                }
            )
        ids = (
            session.execute(
                person_table.insert().returning(person_table.c.id, sort_by_parameter_order=True),
                people,
            )
            .scalars()
            .all()
        )
        for k, person_id in enumerate(ids):
            i = written + k
            p = start + i
            room_id, landlord_id = rooms[i % len(rooms)]
            channel = CHANNELS[i % len(CHANNELS)]
            roll = (i // len(CHANNELS)) % 10
            if channel == "police" or roll < 6:
                state = "verified"
            else:
                state = "moved_out" if roll == 6 else ("pending" if roll < 9 else "rejected")
            reported = now - timedelta(days=rnd.randint(0, 700), minutes=rnd.randint(0, 1440))
            late = i % 7 == 0
            waited = deadline + 1 + rnd.randint(0, 20) if late else rnd.randint(0, deadline)
            move_in = local_date(reported) - timedelta(days=waited)
            decided = state != "pending"
            stays.append(
                {
                    "person_id": person_id,
                    "room_id": room_id,
                    "name": _name(p),
                    "phone": f"1{3 + p % 7}{p % 10**9:09d}",
                    "hometown": HOMETOWNS[p % len(HOMETOWNS)],
                    "move_in": move_in,
                    "move_out": (
                        min(today, move_in + timedelta(days=rnd.randint(1, 200)))
                        if state == "moved_out"
                        else None
                    ),
                    "channel": channel,
                    "reported_at": reported,
                    "reporter_id": reporters(landlord_id).get(channel),
                    "employer": "创客电子科技有限公司" if channel == "enterprise" else None,
                    "status": "verified" if state == "moved_out" else state,
                    "reason": "信息不全，请补充后重新登记" if state == "rejected" else None,
                    "verified_by_id": police if decided else None,
                    "verified_at": reported + timedelta(days=1) if decided else None,
                    "reference": new_reference(),
                    "late": late,
                }
            )
        session.execute(residence_table.insert(), stays)
        written += size
    return written


__all__ = ["bulk", "demo_id_number", "seed"]
