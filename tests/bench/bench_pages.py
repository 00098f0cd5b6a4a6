"""Page benchmark: the app under gunicorn (sync workers) driven by wrk, next to a
Flask hello world served the same way in the same run.

A scratch database (SQLite file in a temp dir, or BENCH_DATABASE_URL) is migrated
with `flask db upgrade`, seeded with `flask seed-demo`, and filled with N generated
sites (each with a building and three rooms) and activity in proportion to them
(volunteers, duties and claims, mediation cases, outreach events: fill_activity).
Then, logged in as the demo police liaison or the demo account PAGE_ACCOUNTS names
(the public pages of ANONYMOUS without a login, as their visitors open them),
every page of PAGES gets: requests/s, p50 and p99 at 16 connections, the ratio to
hello world, response bytes (plain and compressed as a browser would get them)
and SQL statements per request (counted in-process with the test client). Then
the writes of POSTS under the same load, every request a new valid write (a wrk
Lua script varies it and counts 2xx/3xx, 409, other 4xx and 5xx), against the
hello world answering the same requests. Also: the site search's SQL time (index
against LIKE), first-load static bytes, and each gunicorn worker's resident
memory. The results replace this run's section of BENCHMARKS.md (one section per
database and size).

    make bench BENCH_ARGS="--sites 50000 --duration 5"
    .venv/bin/python tests/bench/bench_pages.py [--sites 2000] [--duration 5] [--no-write]
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/community_bench ...
    .venv/bin/python tests/bench/bench_pages.py --profile   # cProfile of two pages, no wrk

Figures, not assertions: absolute numbers drift with the machine's load, so
read the ratio to hello world measured in the same run.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import datetime as dt
import gzip
import http.cookiejar
import io
import json
import os
import pstats
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import brotli  # noqa: E402
from sqlalchemy import event, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from werkzeug.exceptions import MethodNotAllowed, NotFound  # noqa: E402
from werkzeug.routing import RequestRedirect  # noqa: E402

from community import create_app  # noqa: E402
from community.config import Config  # noqa: E402
from community.core import rollups  # noqa: E402
from community.extensions import db  # noqa: E402

# The pages measured. One line per page: label, path and optional request
# headers; the path may use {site_id}, {building_id}, {token} (a site visible to
# the police liaison) and {q} (a 5-character substring of generated site names).
# A path the app has no route for is skipped with a note, so pages of modules
# still to come can be listed already.
PAGES: list[tuple[str, str, dict[str, str]]] = [
    ("healthz", "/healthz", {}),
    ("home", "/", {}),
    ("site list", "/sites/", {}),
    ("site list, search", "/sites/?q={q}", {}),
    ("site page", "/sites/{site_id}", {}),
    ("building page", "/buildings/{building_id}", {}),
    ("inspections due", "/inspections/due", {}),
    ("hazards", "/hazards/", {}),
    ("assessments", "/assessments/", {}),
    ("public plaque", "/plaque/{token}", {}),
    ("residents", "/residents/", {}),
    ("residents, by ID number", "/residents/?q=11010519491231002X", {}),
    ("self-declaration", "/declare/{token}", {}),
    ("resident import form", "/residents/import", {}),
    ("compliance", "/compliance/", {}),
    ("duties", "/duties/", {}),
    ("duty leaderboard", "/duties/leaderboard", {}),
    ("reviews", "/reviews/", {}),
    ("dashboard", "/dashboard/", {}),
    ("notifications", "/notifications/", {}),
    ("audit log", "/audit/", {}),
    # The pages of the other roles' days (PAGE_ACCOUNTS: who opens them).
    ("duties (volunteer)", "/duties/", {}),
    ("my duties (volunteer)", "/duties/mine", {}),
    ("resident import form (enterprise)", "/residents/import", {}),
    ("mediation cases (team lead)", "/mediation/", {}),
    ("my mediation cases (mediator)", "/mediation/mine", {}),
    ("outreach events", "/outreach/", {}),
]

# The demo account a page is measured as (the police liaison's when not named here).
PAGE_ACCOUNTS = {
    "duties (volunteer)": "volunteer",
    "my duties (volunteer)": "volunteer",
    "resident import form (enterprise)": "enterprise",
    "mediation cases (team lead)": "mediation_lead",
    "my mediation cases (mediator)": "mediator",
}


def page_account(label: str) -> str:
    return PAGE_ACCOUNTS.get(label, "police")


# Pages their real visitors open without logging in (a load balancer, a tenant scanning
# the door QR code): measured without the session cookie.
ANONYMOUS = {"healthz", "public plaque", "self-declaration"}

WRK_TIMEOUT = "30s"

# A page whose SQL takes longer than this (in-process) gets its slowest statement noted.
SLOW_SQL_MS = 20.0

# First-load assets (what base.html links), reported compressed.
ASSETS = ["vendor/pico.min.css", "css/app.css", "vendor/htmx.min.js", "js/app.js"]

BIN = Path(sys.executable).parent
SECRET_KEY = "bench-secret-key-" + os.urandom(8).hex()
DATA_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()


def bench_config(url: str):
    return type(
        "BenchConfig",
        (Config,),
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": SECRET_KEY,
            "COMMUNITY_DATA_KEY": DATA_KEY,
            "DEBUG": False,
        },
    )


def utcnow_naive() -> dt.datetime:
    """Now in UTC without tzinfo, as the app stores timestamps."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def app_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=url, SECRET_KEY=SECRET_KEY, COMMUNITY_DATA_KEY=DATA_KEY)
    env.pop("FLASK_DEBUG", None)
    return env


# --- database ------------------------------------------------------------------------


def prepare_database(url: str, residents: int = 0) -> dict:
    """An empty database, migrated and seeded through the real commands (with
    `residents` residence records over the demo rooms)."""
    if make_url(url).get_backend_name() == "postgresql":
        from sqlalchemy import create_engine

        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    flask = [str(BIN / "flask"), "--app", "app"]
    env = app_env(url)
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    out = subprocess.run(
        [*flask, "seed-demo", "--json", "--residents", str(residents)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def fill(app, sites: int, activity: bool = False) -> float:
    """N generated sites, each with one building and three rooms, by Core executemany
    (50,000 sites: seconds, not the minutes of ORM objects); with `activity`, one
    dormitory in ten is the demo enterprise's and fill_activity adds the rest.
    Returns seconds."""
    from community.places.models import Building, Room, Site

    start = time.perf_counter()
    with app.app_context(), db.engine.begin() as conn:
        community_ids = list(conn.scalars(text("SELECT id FROM area WHERE level = 'community'")))
        landlord_id = conn.scalar(text("SELECT id FROM \"user\" WHERE username = 'landlord'"))
        enterprise_id = activity and conn.scalar(
            text("SELECT id FROM organization WHERE kind = 'enterprise' ORDER BY id LIMIT 1")
        )
        kinds = ["rental_apartment", "rental_house", "compound", "dormitory"]
        for chunk in range(0, sites, 10_000):
            conn.execute(
                Site.__table__.insert(),
                [
                    {
                        "name": f"测试出租屋{i:06d}",
                        "kind": kinds[i % 4],
                        "area_id": community_ids[i % len(community_ids)],
                        "address": f"示范路{i}号",
                        "landlord_id": landlord_id if i % 10 == 0 else None,
                        # One dormitory in ten is the demo enterprise's (its import page
                        # lists them).
                        "enterprise_id": (enterprise_id or None) if i % 40 == 3 else None,
                        "qr_token": f"bench-{i:08d}",
                        "stars": (i % 5) + 1 if i % 3 else None,
                    }
                    for i in range(chunk, min(chunk + 10_000, sites))
                ],
            )
        site_ids = list(
            conn.scalars(select(Site.id).where(Site.qr_token.like("bench-%")).order_by(Site.id))
        )
        for chunk in range(0, len(site_ids), 10_000):
            conn.execute(
                Building.__table__.insert(),
                [{"site_id": s, "name": "1幢"} for s in site_ids[chunk : chunk + 10_000]],
            )
        building_ids = list(
            conn.scalars(
                select(Building.id)
                .join(Site, Site.id == Building.site_id)
                .where(Site.qr_token.like("bench-%"))
            )
        )
        for chunk in range(0, len(building_ids), 10_000):
            conn.execute(
                Room.__table__.insert(),
                [
                    {"building_id": b, "number": f"{r:03d}", "beds": 2, "occupants": 1}
                    for b in building_ids[chunk : chunk + 10_000]
                    for r in (101, 102, 201)
                ],
            )
    if activity:
        with app.app_context(), db.engine.begin() as conn:
            fill_activity(conn, sites)
    with app.app_context():
        # The rows went in without the services: the columns the rules derive
        # (due date, 双无) and the area counters, as after any bulk load.
        from community.places.stored import refresh_stored

        refresh_stored(db.session)
        rollups.rebuild(db.session)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum would do within a minute of such a load.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        db.engine.dispose()
    return time.perf_counter() - start


# The activity generated with the sites, in proportion to them (a tenth of the sites
# in duties, mediation cases and outreach events, a fifth in volunteers), and the
# duties the claim POST takes places on: CLAIM_SLOTS non-overlapping times in the
# coming six days (two a day: DUTY_DAILY_CAP), CLAIM_DUTIES_PER_SLOT duties of
# CLAIM_PLACES places each per time, in a community of their own (北塘社区, outside
# the demo accounts' lists) for a volunteer team of their own. Claim request k is
# volunteer k mod CLAIM_VOLUNTEERS on one duty of time k div CLAIM_VOLUNTEERS: every
# request is a new, valid claim until CLAIM_SLOTS x CLAIM_VOLUNTEERS requests.
CLAIM_SLOTS = 12
CLAIM_DUTIES_PER_SLOT = 25
CLAIM_PLACES = 40
CLAIM_VOLUNTEERS = 1000
CLAIM_COMMUNITY = "北塘社区"
DUTY_KINDS = ("patrol", "fire_check", "legal_publicity", "mediation", "anti_fraud")


def activity_sizes(sites: int) -> dict[str, int]:
    return {
        "volunteers": max(CLAIM_VOLUNTEERS, sites // 5),
        "duties": max(200, sites // 10),  # over the past year, done, three claims each
        "upcoming": max(20, sites // 500),  # in the coming six days, in the four communities
        "cases": max(200, sites // 10),
        "mediators": max(10, sites // 2000),  # besides the demo team's lead and mediator
        "events": max(200, sites // 10),
    }


def fill_activity(conn, sites: int) -> dict[str, int]:
    """Volunteers, duties and their claims, mediation cases (with parties and
    mediators), outreach events at generated sites, and the claim POST's duties, by
    Core executemany (inside an app context: parties' names and phones are
    encrypted on the way in). Returns the row counts."""
    from community.accounts.models import Membership, Organization, User
    from community.core.crypto import lookup_hash
    from community.core.timeutil import to_utc, today, utcnow
    from community.duty.models import DutyClaim, DutyTask
    from community.mediation.models import (
        CASE_KINDS,
        RISK_RANK,
        RISKS,
        SOURCES,
        CaseMediator,
        CaseParty,
        MediationCase,
        MediationMember,
    )
    from community.outreach.models import KINDS as EVENT_KINDS
    from community.outreach.models import OutreachEvent
    from community.places.models import Site

    size = activity_sizes(sites)
    areas = dict(conn.execute(text("SELECT name, id FROM area")).all())
    users = dict(conn.execute(text('SELECT username, id FROM "user"')).all())
    orgs = dict(conn.execute(text("SELECT name, id FROM organization")).all())
    now = utcnow().replace(microsecond=0)
    day0 = today()

    def local(day_offset: int, hour: int) -> dt.datetime:
        return to_utc(dt.datetime.combine(day0 + dt.timedelta(days=day_offset), dt.time(hour)))

    def insert(table, rows: list[dict]) -> None:
        # executemany wants the same columns in every row: one batch per set of keys.
        shapes: dict[tuple, list[dict]] = {}
        for row in rows:
            shapes.setdefault(tuple(sorted(row)), []).append(row)
        for batch in shapes.values():
            for chunk in range(0, len(batch), 10_000):
                conn.execute(table.insert(), batch[chunk : chunk + 10_000])

    # Volunteers: a team of their own in CLAIM_COMMUNITY (they cannot log in: no hash).
    team_id = conn.execute(
        Organization.__table__.insert()
        .values(name="压测志愿服务队", kind="volunteer_team", area_id=areas[CLAIM_COMMUNITY])
        .returning(Organization.__table__.c.id)
    ).scalar_one()
    insert(
        User.__table__,
        [
            {"username": f"bench-vol-{i:05d}", "display_name": f"志愿者{i}", "password_hash": "!"}
            for i in range(size["volunteers"])
        ],
    )
    volunteers = list(
        conn.scalars(
            select(User.id).where(User.username.like("bench-vol-%")).order_by(User.username)
        )
    )
    insert(
        Membership.__table__,
        [{"user_id": v, "organization_id": team_id, "role": "volunteer"} for v in volunteers],
    )

    # Duties: the past year (done, three approved claims each; the demo volunteer holds
    # a place on 120 of 东村's), the coming six days in the four communities (the demo
    # volunteer on two), and the claim POST's.
    communities = [areas[n] for n in ("东村社区", "南苑社区", "西河社区", CLAIM_COMMUNITY)]
    coordinator, volunteer = users["coordinator"], users["volunteer"]
    demo_past = {i for i in range(size["duties"]) if i % 4 == 0 and i < 4 * 120}
    demo_next = {i for i in range(size["upcoming"]) if i % 4 == 0 and i < 4 * 2}
    rows = []
    for i in range(size["duties"]):
        starts = local(-(1 + i % 364), 9 + (i % 3) * 4)
        rows.append(
            {
                "title": f"压测巡查{i:06d}",
                "kind": DUTY_KINDS[i % 5],
                "area_id": communities[i % 4],
                "starts_at": starts,
                "ends_at": starts + dt.timedelta(hours=2),
                "capacity": 5,
                "taken": 3 + (i in demo_past),
                "points": 10,
                "status": "done",
                "publisher_id": coordinator,
                "created_at": starts - dt.timedelta(days=7),
            }
        )
    for i in range(size["upcoming"]):
        starts = local(1 + i % 6, 8 + (i // 6 % 4) * 3)
        rows.append(
            {
                "title": f"压测值守{i:06d}",
                "kind": DUTY_KINDS[i % 5],
                "area_id": communities[i % 4],
                "starts_at": starts,
                "ends_at": starts + dt.timedelta(hours=2),
                "capacity": 5,
                "taken": int(i in demo_next),
                "points": 10,
                "status": "published",
                "publisher_id": coordinator,
                "created_at": now,
            }
        )
    for slot in range(CLAIM_SLOTS):
        starts = local(1 + slot // 2, 9 if slot % 2 == 0 else 14)
        for d in range(CLAIM_DUTIES_PER_SLOT):
            rows.append(
                {
                    "title": f"压测认领{slot:02d}-{d:02d}",
                    "kind": "patrol",
                    "area_id": areas[CLAIM_COMMUNITY],
                    "starts_at": starts,
                    "ends_at": starts + dt.timedelta(hours=2),
                    "capacity": CLAIM_PLACES,
                    "taken": 0,
                    "points": 10,
                    "status": "published",
                    "publisher_id": coordinator,
                    "created_at": now,
                }
            )
    insert(DutyTask.__table__, rows)
    duty_rows = conn.execute(
        select(DutyTask.id, DutyTask.title, DutyTask.starts_at).where(DutyTask.title.like("压测%"))
    ).all()
    by_title = {title: (duty_id, starts) for duty_id, title, starts in duty_rows}
    claims = []
    for i in range(size["duties"]):
        duty_id, starts = by_title[f"压测巡查{i:06d}"]
        holders = [volunteers[(i * 3 + j) % len(volunteers)] for j in range(3)]
        if i in demo_past:
            holders.append(volunteer)
        for holder in holders:
            claims.append(
                {
                    "task_id": duty_id,
                    "volunteer_id": holder,
                    "status": "approved",
                    "claimed_at": starts - dt.timedelta(days=2),
                    "checked_in_at": starts,
                    "checked_out_at": starts + dt.timedelta(hours=2),
                    "report": "巡查正常，未发现隐患。",
                    "points_awarded": 10,
                    "decided_by_id": coordinator,
                    "decided_at": starts + dt.timedelta(hours=5),
                }
            )
    for i in sorted(demo_next):
        duty_id, _starts = by_title[f"压测值守{i:06d}"]
        claims.append(
            {"task_id": duty_id, "volunteer_id": volunteer, "status": "claimed", "claimed_at": now}
        )
    insert(DutyClaim.__table__, claims)

    # Mediation cases of the demo team, in 东城街道's two communities: a year of
    # them, most concluded or closed, the youngest new or accepted, shared among the
    # team's mediators (the demo lead and mediator, and generated ones).
    lead, mediator, police = users["mediation_lead"], users["mediator"], users["police"]
    mediation_team = orgs["东城金牌调解队"]
    insert(
        User.__table__,
        [
            {"username": f"bench-med-{i:04d}", "display_name": f"调解员{i}", "password_hash": "!"}
            for i in range(size["mediators"])
        ],
    )
    generated = list(
        conn.scalars(
            select(User.id).where(User.username.like("bench-med-%")).order_by(User.username)
        )
    )
    insert(
        Membership.__table__,
        [{"user_id": m, "organization_id": mediation_team, "role": "mediator"} for m in generated],
    )
    insert(
        MediationMember.__table__,
        [
            {"team_id": mediation_team, "user_id": m, "position": "mediator", "category": "social"}
            for m in generated
        ],
    )
    case_mediators = [mediator, lead, *generated]
    cases = []
    for i in range(size["cases"]):
        age = (i * 37) % 365
        opened = now - dt.timedelta(days=age, hours=i % 24)
        status = (
            "new" if age < 5 else "accepted" if age < 30 else ("closed" if i % 3 else "concluded")
        )
        risk = RISKS[i % 3]
        row = {
            "number": f"BENCH{i:07d}",
            "team_id": mediation_team,
            "area_id": communities[i % 2],
            "kind": CASE_KINDS[i % len(CASE_KINDS)],
            "source": SOURCES[i % len(SOURCES)],
            "summary": "压测纠纷：房屋租赁押金退还争议。",
            "amount": (i % 50) * 100,
            "risk": risk,
            "risk_rank": RISK_RANK[risk],
            "status": status,
            "opened_by_id": police,
            "opened_at": opened,
            "accept_due": (opened + dt.timedelta(days=3)).date(),
            "last_actor_id": police,
        }
        if status != "new":
            accepted = opened + dt.timedelta(days=1)
            row.update(
                accepted_at=accepted,
                accepted_by_id=lead,
                conclude_due=(accepted + dt.timedelta(days=30)).date(),
                last_actor_id=lead,
            )
        if status in ("concluded", "closed"):
            concluded = opened + dt.timedelta(days=10 + i % 15)
            row.update(concluded_at=concluded, concluded_by_id=lead, last_actor_id=lead)
            if i % 2:
                row.update(
                    outcome="agreement",
                    terms="被申请人于十日内退还押金。",
                    settled_amount=(i % 50) * 80,
                    followup_due=(concluded + dt.timedelta(days=30)).date(),
                )
            else:
                row.update(outcome="withdrawn", outcome_reason="双方自行和解，申请人撤回。")
        if status == "closed":
            row.update(closed_at=opened + dt.timedelta(days=40), closed_by_id=lead)
        cases.append(row)
    insert(MediationCase.__table__, cases)
    case_ids = list(
        conn.scalars(
            select(MediationCase.id)
            .where(MediationCase.number.like("BENCH%"))
            .order_by(MediationCase.number)
        )
    )
    parties, assigned = [], []
    for i, (case_id, row) in enumerate(zip(case_ids, cases, strict=True)):
        for position, role in ((1, "applicant"), (2, "respondent")):
            phone = f"139{(i * 2 + position) % 10**8:08d}"
            parties.append(
                {
                    "case_id": case_id,
                    "position": position,
                    "role": role,
                    "name": ("张" if position == 1 else "李") + f"压测{i}",
                    "phone": phone,
                    "phone_hash": lookup_hash(phone),
                }
            )
        if row["status"] != "new":
            assigned.append(
                {
                    "case_id": case_id,
                    "user_id": case_mediators[i % len(case_mediators)],
                    "is_lead": True,
                    "assigned_by_id": lead,
                    "assigned_at": row["accepted_at"],
                }
            )
    insert(CaseParty.__table__, parties)
    insert(CaseMediator.__table__, assigned)

    # Outreach events at generated sites, organised by the demo police station: a
    # year held (closed, with attendance), one in ten coming in the next 30 days.
    site_rows = conn.execute(
        select(Site.id, Site.area_id).where(Site.qr_token.like("bench-%")).order_by(Site.id)
    ).all()
    kinds = [k for k in EVENT_KINDS if k != "corner_visit"]
    events = []
    for i in range(size["events"]):
        site_id, area_id = site_rows[(i * 13) % len(site_rows)]
        upcoming = i % 10 == 0
        past = now - dt.timedelta(days=1 + (i * 11) % 365)
        starts = local(1 + i % 30, 9 + i % 8) if upcoming else past
        row = {
            "kind": kinds[i % len(kinds)],
            "title": f"压测宣传活动{i:06d}",
            "target": "site",
            "area_id": area_id,
            "site_id": site_id,
            "starts_at": starts,
            "ends_at": starts + dt.timedelta(hours=2),
            "organiser_id": orgs["东城派出所"],
            "planned_audience": 40,
            "status": "published" if upcoming else "closed",
            "signin_token": f"bench-ev-{i:07d}",
            "publisher_id": police,
            "created_at": starts - dt.timedelta(days=7),
        }
        if not upcoming:
            row.update(
                closed_at=starts + dt.timedelta(hours=3),
                signins_counted=20 + i % 20,
                hand_count=i % 7,
                attendance=20 + i % 20 + i % 7,
                materials=30,
            )
        events.append(row)
    insert(OutreachEvent.__table__, events)
    return {
        "volunteers": len(volunteers),
        "duties": len(rows),
        "claims": len(claims),
        "cases": len(cases),
        "events": len(events),
    }


def claim_duties(app) -> list[int]:
    """The claim POST's duties, by time then number: CLAIM_DUTIES_PER_SLOT per time."""
    from community.duty.models import DutyTask

    with app.app_context():
        return list(
            db.session.scalars(
                select(DutyTask.id).where(DutyTask.title.like("压测认领%")).order_by(DutyTask.title)
            )
        )


# --- in-process: login, ids, SQL counts, bytes ------------------------------------------


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def login_client(app, account):
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    resp = client.post(
        "/login",
        data={"username": account["username"], "password": account["password"]},
        headers={"X-CSRFToken": token},
    )
    assert resp.status_code == 303, f"login failed: {resp.status_code}"
    return client


def pick_ids(app, client) -> dict:
    """A generated site the police liaison may see (and its building), its plaque token
    and a 5-character search: the site's name from 屋 on (about 100 names match)."""
    from community.places.models import Building, Site

    with app.app_context():
        rows = db.session.execute(
            select(Site.id, Site.name, Site.qr_token)
            .where(Site.qr_token.like("bench-%"))
            .order_by(Site.id)
        ).all()
        middle = len(rows) // 2
        for site_id, name, token in rows[middle:] + rows[:middle]:
            if client.get(f"/sites/{site_id}").status_code == 200:
                building_id = db.session.scalar(
                    select(Building.id).where(Building.site_id == site_id)
                )
                return {
                    "site_id": site_id,
                    "building_id": building_id,
                    "token": token,
                    "q": name[4:9],
                }
    raise SystemExit("no generated site is visible to the police liaison")


def route_exists(app, path: str) -> bool:
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(path.split("?")[0], method="GET")
    except (NotFound, MethodNotAllowed):
        # Answered in front of Flask (the WSGI middleware of /healthz), or not at all.
        resp = app.test_client().get(path)
        resp.close()
        return resp.status_code != 404
    except RequestRedirect:
        return True
    return True


@dataclass
class Page:
    label: str
    path: str
    headers: dict[str, str]
    status: int = 0
    body_bytes: int = 0
    wire_bytes: int = 0  # as sent to a browser that accepts br and gzip
    encoding: str = ""
    queries: int = 0
    sql_ms: float = 0.0
    rps: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    wrk_notes: list[str] = field(default_factory=list)


def count_in_process(app, client, page: Page) -> None:
    """Status, bytes, SQL statements per request and the time they take (one
    request, in-process, after a warm-up request)."""
    with app.app_context():
        engine = db.engine
    client.get(page.path, headers=page.headers).close()  # warm caches
    timings: list[tuple[float, str]] = []
    started: list[float] = []

    def before(*args, **kwargs):
        started.append(time.perf_counter())

    def after(conn, cursor, statement, *args, **kwargs):
        timings.append(((time.perf_counter() - started.pop()) * 1000, statement))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        resp = client.get(page.path, headers=page.headers)
        page.status = resp.status_code
        page.body_bytes = len(resp.get_data())
        resp.close()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    page.queries = len(timings)
    page.sql_ms = sum(ms for ms, _ in timings)
    if timings and page.sql_ms > SLOW_SQL_MS:
        ms, statement = max(timings)
        short = " ".join(statement.split())
        page.wrk_notes.append(
            f"SQL {page.sql_ms:.0f} ms in-process; slowest {ms:.0f} ms: `{short[:160]}…`"
        )
    resp = client.get(page.path, headers={**page.headers, "Accept-Encoding": "br, gzip"})
    page.wire_bytes = len(resp.get_data())
    page.encoding = resp.headers.get("Content-Encoding", "")
    resp.close()


def search_timing(app, client, q: str, runs: int = 30) -> dict:
    """The search page's own SQL re-run (median ms), the search condition alone on
    the index path and on LIKE, and whether the page's plan avoids scanning `site`."""
    from community.places.models import Site
    from community.places.queries import site_text_match

    with app.app_context():
        engine = db.engine
        dialect = engine.dialect.name
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        client.get(f"/sites/?q={q}").close()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    searching = [(s, p) for s, p in captured if "site_fts" in s or "ILIKE" in s.upper()]

    def median_ms(fn) -> float:
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)

    result: dict = {"q": q, "dialect": dialect}
    with engine.connect() as conn:

        def page_sql():
            for statement, parameters in searching:
                conn.exec_driver_sql(statement, parameters).fetchall()

        result["page_sql_ms"] = median_ms(page_sql)
        for label, path in (("index_ms", dialect), ("like_ms", "like")):
            cond = site_text_match(q, path)
            count = select(Site.id).where(cond).subquery()

            def run(cond=cond, count=count):
                conn.execute(select(db.func.count()).select_from(count)).scalar()
                conn.execute(
                    select(Site.id, Site.name).where(cond).order_by(Site.name, Site.id).limit(25)
                ).all()

            if label == "like_ms" and dialect == "postgresql":
                # PostgreSQL serves the LIKE path's ILIKE from the trigram index
                # too: forbid index use to show what a scan would cost.
                conn.rollback()  # end the autobegun transaction; SET LOCAL needs its own
                with conn.begin():
                    conn.execute(text("SET LOCAL enable_bitmapscan = off"))
                    conn.execute(text("SET LOCAL enable_indexscan = off"))
                    result[label] = median_ms(run)
            else:
                result[label] = median_ms(run)
        result["matches"] = conn.execute(
            select(db.func.count()).select_from(
                select(Site.id).where(site_text_match(q, dialect)).subquery()
            )
        ).scalar()
        plan_lines = []
        for statement, parameters in searching:
            prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            plan_lines += [str(row[-1]) for row in rows]
        plan = "\n".join(plan_lines)
        if dialect == "sqlite":
            result["scans_site"] = bool(re.search(r"SCAN site\b", plan))
            result["uses_index"] = "site_fts VIRTUAL TABLE" in plan
        else:
            result["scans_site"] = bool(re.search(r"Seq Scan on site\b", plan))
            result["uses_index"] = "_trgm" in plan
        result["plan"] = plan
    return result


def asset_sizes(app) -> list[tuple[str, int, int, int]]:
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    rows = []
    for name in ASSETS:
        match = re.search(rf'"(/static/{re.escape(name)}(\?v=[0-9a-f]+)?)"', html)
        url = match.group(1) if match else f"/static/{name}"
        sizes = []
        for enc in ("identity", "gzip", "br"):
            resp = client.get(url, headers={"Accept-Encoding": enc})
            sizes.append(len(resp.get_data()))
            resp.close()
        rows.append((name, *sizes))
    return rows


def pico_variants() -> list[tuple[str, int, int, int]]:
    folder = ROOT / "node_modules/@picocss/pico/css"
    rows = []
    for name in ("pico.min.css", "pico.classless.min.css", "pico.conditional.min.css"):
        path = folder / name
        if path.is_file():
            data = path.read_bytes()
            rows.append(
                (
                    name,
                    len(data),
                    len(gzip.compress(data, 6)),
                    len(brotli.compress(data, quality=6)),
                )
            )
    return rows


# --- gunicorn and wrk ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(target: str, env: dict, workers: int, extra: list[str] = ()):
    port = free_port()
    cmd = [
        str(BIN / "gunicorn"),
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        *extra,
        target,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited: {shlex.join(cmd)}")
            try:
                urllib.request.urlopen(base + "/", timeout=1).close()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.05)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def worker_rss_mb(master_pid: int) -> list[float]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    pids = children.read_text().split() if children.exists() else []
    result = []
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        kb = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
        result.append(kb / 1024)
    return result


def http_login(base: str, account: dict) -> str:
    """Log in over HTTP (POST /login with the CSRF token); the Cookie header for wrk."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(base + "/login").read().decode()
    data = urllib.parse.urlencode(
        {
            "username": account["username"],
            "password": account["password"],
            "csrf_token": csrf_token(html),
        }
    ).encode()
    opener.open(base + "/login", data=data).read()
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    assert "session=" in cookies, "no session cookie after login"
    return cookies


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def http_status(url: str, headers: dict) -> int:
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=300) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def warm_up(url: str, headers: dict, n: int = 4) -> None:
    """A few requests one after the other (templates compiled, connections open).
    Not a short wrk run: a sync worker still serves the requests wrk abandoned when
    it stopped, and a slow page's backlog would eat into the measurement."""
    for _ in range(n):
        http_status(url, headers)


def drain(base: str) -> None:
    """Wait until the workers have served what wrk left queued (see warm_up)."""
    for _ in range(2):
        http_status(base + "/healthz", {})


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, headers: dict, duration: int, threads: int, connections: int) -> dict:
    # --timeout: a slow page's latencies are recorded instead of dropped as timeouts.
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    cmd += ["--timeout", WRK_TIMEOUT]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "notes": [],
    }
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        result["notes"].append(f"{non2xx.group(1)} non-2xx/3xx responses")
    errors = re.search(r"Socket errors: (.*)", out)
    if errors:
        result["notes"].append("socket errors: " + errors.group(1))
    return result


# --- writes under load: a residence report and a duty claim ------------------------------
#
# wrk sends the POSTs from a generated Lua script that makes every request a new,
# valid one: a residence report of a new person (a GB 11643 ID number of its own,
# computed in the script) in one of the landlord's rooms, or a claim by one of
# CLAIM_VOLUNTEERS volunteers (each with a session cookie and CSRF token of their
# own) on a duty of a time they hold nothing at yet (see CLAIM_SLOTS). The script
# counts the answers: 2xx/3xx, 409, other 4xx, 5xx. The hello world gets the same
# script (same paths, headers and bodies) on a route that takes any path.

POSTS = [
    # label, path shown, account (a demo username, or "volunteers": the generated ones)
    ("residence report", "/residents/new", "landlord"),
    ("duty claim", "/duties/<id>/claim", "volunteers"),
]

ID_AREA = "330302"  # the first six digits of the generated ID numbers
ID_BIRTH_BASE = dt.date(1975, 1, 1)  # request k: born k // 1000 days later, number k % 1000

LUA = r"""-- Generated by tests/bench/bench_pages.py (%(label)s); wrk ... -s this.lua URL -- OFFSET
local KIND = "%(kind)s"
local THREADS = %(threads)d
local SESSIONS = {%(sessions)s}
local ROOMS = {%(rooms)s}
local DUTIES = {%(duties)s}
local SLOTS, PER_SLOT, VOLUNTEERS = %(slots)d, %(per_slot)d, %(volunteers)d
local AREA, BASE = "%(area)s", %(base)d
local NAME, MOVE_IN, EXTRA = "%(name)s", "%(move_in)s", "%(extra)s"
local W = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
local CHECK = "10X98765432"

local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  offset = tonumber(args[1] or "0")
  n, ok, conflict, client, server, other = 0, 0, 0, 0, 0, ""
end

local function id_number(k)
  local born = os.date("!%%Y%%m%%d", BASE + math.floor(k / 1000) * 86400)
  local first = AREA .. born .. string.format("%%03d", k %% 1000)
  local total = 0
  for i = 1, 17 do
    total = total + tonumber(first:sub(i, i)) * W[i]
  end
  return first .. CHECK:sub(total %% 11 + 1, total %% 11 + 1)
end

function request()
  local k = offset + n * THREADS + tid
  n = n + 1
  if KIND == "residence" then
    local s = SESSIONS[1]
    local body = "csrf_token=" .. s[2] .. "&room_id=" .. ROOMS[k %% #ROOMS + 1]
      .. "&name=" .. NAME .. k .. "&id_number=" .. id_number(k)
      .. "&phone=138" .. string.format("%%08d", k %% 100000000)
      .. "&move_in=" .. MOVE_IN .. EXTRA
    return wrk.format("POST", "/residents/new",
      {["Cookie"] = s[1], ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
  end
  local j = k %% VOLUNTEERS
  local slot = math.floor(k / VOLUNTEERS) %% SLOTS
  local s = SESSIONS[j + 1]
  return wrk.format("POST", "/duties/" .. DUTIES[slot * PER_SLOT + j %% PER_SLOT + 1] .. "/claim",
    {["Cookie"] = s[1], ["Content-Type"] = "application/x-www-form-urlencoded"},
    "csrf_token=" .. s[2])
end

local function note(status)
  if not string.find(other, " " .. status .. ",", 1, true) then
    other = other .. " " .. status .. ","
  end
end

function response(status, headers, body)
  if status < 400 then
    -- An expired or refused session is sent to the login page: no write, not a success.
    local location = headers["Location"] or headers["location"] or ""
    if string.find(location, "/login", 1, true) then
      client = client + 1; note(status .. " to /login")
    else
      ok = ok + 1
    end
  elseif status == 409 then conflict = conflict + 1
  elseif status < 500 then client = client + 1; note(status)
  else server = server + 1; note(status) end
end

function done(summary, latency, requests)
  local t = {0, 0, 0, 0, 0}
  local seen = ""
  for _, thread in ipairs(threads) do
    t[1] = t[1] + thread:get("ok")
    t[2] = t[2] + thread:get("conflict")
    t[3] = t[3] + thread:get("client")
    t[4] = t[4] + thread:get("server")
    t[5] = math.max(t[5], thread:get("n"))
    seen = seen .. thread:get("other")
  end
  io.write(string.format(
    "BENCH-COUNTS ok=%%d conflict=%%d client=%%d server=%%d maxn=%%d other=%%s\n",
    t[1], t[2], t[3], t[4], t[5], seen))
end
"""


def id_number_for(k: int) -> str:
    """Request k's ID number, as the Lua script computes it."""
    from community.core.validators import check_digit

    born = ID_BIRTH_BASE + dt.timedelta(days=k // 1000)
    first = f"{ID_AREA}{born:%Y%m%d}{k % 1000:03d}"
    return first + check_digit(first)


def residence_fields(k: int, room_id: int, move_in: str) -> dict[str, str]:
    """Request k's residence report (the Lua script sends the same fields)."""
    return {
        "room_id": str(room_id),
        "name": f"压测{k}",
        "id_number": id_number_for(k),
        "phone": f"138{k % 100_000_000:08d}",
        "move_in": move_in,
        "hometown": "浙江温州",
        "employer": "创客电子科技有限公司",
    }


def forge_sessions(app, user_ids: list[int]) -> list[tuple[str, str]]:
    """(Cookie header, CSRF token) of a fresh session per user, made as a login
    would make it (no password check: the generated volunteers have none)."""
    from flask import g
    from flask import session as flask_session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf

    from community.accounts.auth import start_session
    from community.accounts.models import User

    serializer = app.session_interface.get_signing_serializer(app)
    name = app.config["SESSION_COOKIE_NAME"]
    result = []
    with app.app_context():
        users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))}
        for uid in user_ids:
            with app.test_request_context():
                login_user(users[uid])
                start_session()
                g.pop("csrf_token", None)
                token = generate_csrf()
                result.append((f"{name}={serializer.dumps(dict(flask_session))}", token))
        db.session.remove()
    return result


@dataclass
class Post:
    label: str
    path: str
    account: str
    kind: str
    script: Path = Path()
    hello_script: Path = Path()
    status: int = 0
    body_bytes: int = 0
    queries: int = 0
    sql_ms: float = 0.0
    rps: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    ok: int = 0
    conflict: int = 0
    client: int = 0
    server: int = 0
    hello: list[float] = field(default_factory=list)
    next_k: int = 0
    warm: tuple[str, dict] = ("", {})
    notes: list[str] = field(default_factory=list)


def prepare_posts(app, workdir: Path, threads: int) -> list[Post]:
    """The POSTs' sessions, Lua scripts and one request of each in-process (status,
    bytes, SQL statements: the first request of the sequence, k = 0)."""
    from community.accounts.models import User
    from community.core.timeutil import today
    from community.places.models import Building, Room, Site

    with app.app_context():
        landlord = db.session.scalar(select(User.id).where(User.username == "landlord"))
        rooms = list(
            db.session.scalars(
                select(Room.id)
                .join(Building, Building.id == Room.building_id)
                .join(Site, Site.id == Building.site_id)
                .where(Site.landlord_id == landlord)
                .order_by(Room.id)
            )
        )
        volunteers = list(
            db.session.scalars(
                select(User.id)
                .where(User.username.like("bench-vol-%"))
                .order_by(User.username)
                .limit(CLAIM_VOLUNTEERS)
            )
        )
        move_in = today().isoformat()
        db.session.remove()
    duties = claim_duties(app)
    posts = []
    for label, path, account in POSTS:
        kind = "residence" if account == "landlord" else "claim"
        sessions = forge_sessions(app, [landlord] if kind == "residence" else volunteers)
        extra = "&" + urllib.parse.urlencode(
            {k: v for k, v in residence_fields(0, 0, "").items() if k in ("hometown", "employer")}
        )
        values = {
            "label": label,
            "kind": kind,
            "threads": threads,
            "sessions": ", ".join(f'{{"{c}", "{t}"}}' for c, t in sessions),
            "rooms": ", ".join(map(str, rooms)),
            "duties": ", ".join(map(str, duties)),
            "slots": CLAIM_SLOTS,
            "per_slot": CLAIM_DUTIES_PER_SLOT,
            "volunteers": len(sessions),
            "area": ID_AREA,
            "base": int(dt.datetime.combine(ID_BIRTH_BASE, dt.time(), dt.UTC).timestamp()),
            "name": urllib.parse.quote("压测"),
            "move_in": move_in,
            "extra": extra,
        }
        post = Post(label, path, account, kind)
        post.script = workdir / f"post-{kind}.lua"
        post.script.write_text(LUA % values)
        # k = 0 in-process; wrk's requests start at 1 (then where the last run stopped).
        cookie, token = sessions[0]
        client = app.test_client()
        client.set_cookie(cookie.split("=", 1)[0], cookie.split("=", 1)[1])
        if kind == "residence":
            data = {**residence_fields(0, rooms[0], move_in), "csrf_token": token}
            target = path
            post.warm = ("/residents/new", {"Cookie": cookie})
        else:
            data = {"csrf_token": token}
            target = f"/duties/{duties[0]}/claim"
            post.warm = (f"/duties/{duties[0]}", {"Cookie": cookie})
        count_post(app, client, post, target, data)
        post.next_k = 1
        posts.append(post)
    return posts


def count_post(app, client, post: Post, path: str, data: dict) -> None:
    with app.app_context():
        engine = db.engine
    statements: list[float] = []
    started: list[float] = []

    def before(*args, **kwargs):
        started.append(time.perf_counter())

    def after(*args, **kwargs):
        statements.append((time.perf_counter() - started.pop()) * 1000)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        resp = client.post(path, data=data)
        post.status = resp.status_code
        post.body_bytes = len(resp.get_data())
        resp.close()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    post.queries, post.sql_ms = len(statements), sum(statements)
    if post.status >= 400:
        post.notes.append(f"in-process request answered {post.status}")


def run_wrk_script(
    url: str, script: Path, offset: int, duration: int, threads: int, connections: int
) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    cmd += ["--timeout", WRK_TIMEOUT, "-s", str(script), url, "--", str(offset)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    counts = re.search(
        r"BENCH-COUNTS ok=(\d+) conflict=(\d+) client=(\d+) server=(\d+) maxn=(\d+) other=(.*)",
        out,
    )
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "ok": int(counts.group(1)),
        "conflict": int(counts.group(2)),
        "client": int(counts.group(3)),
        "server": int(counts.group(4)),
        # Where the next run starts: past every k a thread may have sent.
        "next": offset + (int(counts.group(5)) + 1) * threads,
        "other": sorted({c.strip() for c in counts.group(6).split(",") if c.strip()}),
        "notes": [],
    }
    errors = re.search(r"Socket errors: (.*)", out)
    if errors:
        result["notes"].append("socket errors: " + errors.group(1))
    return result


def written_rows(app, posts: list[Post], since: dt.datetime) -> None:
    """After the run: what the POSTs wrote, checked against the answers counted."""
    from community.accounts.models import User
    from community.duty.models import PLACE_STATES, DutyClaim, DutyTask
    from community.residents.models import Residence

    with app.app_context():
        s = db.session
        for post in posts:
            if post.kind == "residence":
                landlord = s.scalar(select(User.id).where(User.username == "landlord"))
                n = s.scalar(
                    select(db.func.count())
                    .select_from(Residence)
                    .where(Residence.reporter_id == landlord, Residence.reported_at >= since)
                )
                post.notes.append(
                    f"residences written during the run: {n:,} (answers wrk counted: "
                    f"{post.ok:,} 2xx/3xx; the requests in flight when wrk stopped, up to "
                    "one per connection, make the difference)"
                )
            else:
                duties = claim_duties(app)
                held = (
                    select(DutyClaim.task_id, db.func.count().label("n"))
                    .where(DutyClaim.status.in_(PLACE_STATES), DutyClaim.task_id.in_(duties))
                    .group_by(DutyClaim.task_id)
                    .subquery()
                )
                taken, wrong = s.execute(
                    select(
                        db.func.coalesce(db.func.sum(DutyTask.taken), 0),
                        db.func.count().filter(
                            (DutyTask.taken > DutyTask.capacity)
                            | (db.func.coalesce(held.c.n, 0) != DutyTask.taken)
                        ),
                    )
                    .select_from(DutyTask)
                    .outerjoin(held, held.c.task_id == DutyTask.id)
                    .where(DutyTask.id.in_(duties))
                ).one()
                post.notes.append(
                    f"places taken: {taken:,} of {len(duties) * CLAIM_PLACES:,} on "
                    f"{len(duties)} duties; duties overbooked or whose count differs from "
                    f"their claims: {wrong}"
                )
        s.remove()
        db.engine.dispose()


# --- report ---------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        if found:
            model = found.group(1).strip()
    return f"{os.cpu_count()} cores, {model}"


def database_label(app) -> str:
    with app.app_context():
        with db.engine.connect() as conn:
            if db.engine.dialect.name == "sqlite":
                version = conn.scalar(text("SELECT sqlite_version()"))
                return f"SQLite {version} (file, WAL)"
            version = conn.scalar(text("SHOW server_version"))
            return f"PostgreSQL {version}"


def command_line() -> str:
    parts = []
    if os.environ.get("BENCH_DATABASE_URL"):
        url = make_url(os.environ["BENCH_DATABASE_URL"]).render_as_string(hide_password=True)
        parts.append(f"BENCH_DATABASE_URL={url}")
    script = Path(sys.argv[0]).resolve()
    with contextlib.suppress(ValueError):
        script = script.relative_to(ROOT)
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(ROOT)
    parts += [str(python), str(script), *sys.argv[1:]]
    return " ".join(shlex.quote(p) for p in parts)


def render_section(ctx: dict) -> str:
    hello = ctx["hello_rps"]
    act = ctx["activity"]
    lines = [
        f"## {ctx['db_kind']}, {ctx['sites']:,} generated sites",
        "",
        f"- date: {ctx['date']}; machine: {ctx['machine']}",
        f"- database: {ctx['database']}; {ctx['sites']:,} generated sites "
        f"(+ {ctx['sites']:,} buildings, {3 * ctx['sites']:,} rooms, "
        f"{act['volunteers']:,} volunteers, {act['duties']:,} past and {act['upcoming']:,} "
        f"coming duties with {3 * act['duties']:,} claims, {CLAIM_SLOTS * CLAIM_DUTIES_PER_SLOT} "
        f"duties to claim, {act['cases']:,} mediation cases shared by {act['mediators'] + 2} "
        f"mediators, {act['events']:,} outreach events) "
        f"on the demo data; filled in {ctx['fill_s']:.1f} s",
        f"- serving: gunicorn {ctx['workers']} sync workers; "
        f"`wrk -t{ctx['threads']} -c{ctx['connections']} -d{ctx['duration']}s --latency "
        f"--timeout {WRK_TIMEOUT}` "
        "per page, logged in as the demo police liaison, or as the demo account the label "
        "names in brackets "
        f"({', '.join(sorted(ANONYMOUS))}: anonymous, as their visitors open them)",
        f"- hello world (Flask, same gunicorn setup): {ctx['hello_runs'][0]:,.0f} req/s before "
        f"the pages, {ctx['hello_runs'][1]:,.0f} after; ratios use the mean, {hello:,.0f}",
        f"- command: `{ctx['command']}`",
        "",
        "| page | path | status | req/s | × hello | p50 ms | p99 ms | bytes | sent (br) "
        "| SQL/req | SQL ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in ctx["pages"]:
        sent = f"{p.wire_bytes:,}" if p.encoding else f"{p.wire_bytes:,} (plain)"
        lines.append(
            f"| {p.label} | `{p.path}` | {p.status} | {p.rps:,.0f} | {p.rps / hello:.2f} "
            f"| {p.p50:.1f} | {p.p99:.1f} | {p.body_bytes:,} | {sent} | {p.queries} "
            f"| {p.sql_ms:.1f} |"
        )
    lines.append("")
    posts = ctx.get("posts") or []
    if posts:
        lines += [
            "Writes under load, the same wrk settings: every request a new, valid write "
            "(a residence report of a new person in one of the demo landlord's rooms; a claim "
            f"by one of {CLAIM_VOLUNTEERS:,} generated volunteers, each with their own session, "
            f"on a duty of a time they hold nothing at yet: {CLAIM_SLOTS} times × "
            f"{CLAIM_DUTIES_PER_SLOT} duties × {CLAIM_PLACES} places), sent by a wrk Lua "
            "script that counts the answers. × hello: against the hello world answering the "
            "same script's requests (same paths, cookies and bodies), "
            + ", ".join(
                f"{p.label} {' and '.join(f'{r:,.0f}' for r in p.hello)} req/s" for p in posts
            )
            + " (before and after the pages). Status, SQL/req and SQL ms: one such request "
            "in-process.",
            "",
            "| write | path | as | status | req/s | × hello | p50 ms | p99 ms | 2xx/3xx | 409 "
            "| other 4xx, to login | 5xx | SQL/req | SQL ms |",
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
            "| ---: | ---: |",
        ]
        for p in posts:
            ceiling = statistics.mean(p.hello) if p.hello else 0.0
            ratio = f"{p.rps / ceiling:.2f}" if ceiling else "–"
            lines.append(
                f"| {p.label} | `POST {p.path}` | {p.account} | {p.status} | {p.rps:,.0f} "
                f"| {ratio} | {p.p50:.1f} | {p.p99:.1f} | {p.ok:,} | {p.conflict:,} "
                f"| {p.client:,} | {p.server:,} | {p.queries} | {p.sql_ms:.1f} |"
            )
        lines.append("")
    s = ctx["search"]
    lines += [
        f"Site search `q={s['q']}` ({s['matches']} sites match, the police liaison sees "
        f"those in their area): the search page's SQL {s['page_sql_ms']:.1f} ms; the "
        f"condition alone (count + first 25 by name) {s['index_ms']:.1f} ms on the index "
        f"against {s['like_ms']:.1f} ms scanning the table (LIKE). The page's plan "
        + ("uses the trigram index" if s["uses_index"] else "does not use the trigram index")
        + (" and scans `site`" if s["scans_site"] else " and does not scan `site`")
        + (
            " (PostgreSQL picks by cost: on a small table a scan is cheaper)."
            if s["dialect"] == "postgresql" and s["scans_site"]
            else "."
        ),
        "",
        "Gunicorn workers' resident memory after the run (VmRSS): "
        + ", ".join(f"{mb:.0f} MB" for mb in ctx["rss"])
        + f" (hello world: {', '.join(f'{mb:.0f} MB' for mb in ctx['hello_rss'])}).",
    ]
    notes = list(ctx["notes"])
    for p in ctx["pages"]:
        notes += [f"{p.label}: {n}" for n in p.wrk_notes]
    for p in ctx.get("posts") or []:
        notes += [f"{p.label} (POST): {n}" for n in p.notes]
    if notes:
        lines += ["", "Notes:", *[f"- {n}" for n in notes]]
    return "\n".join(lines)


def render_assets(rows, variants) -> str:
    total = [sum(r[i] for r in rows) for i in (1, 2, 3)]
    lines = [
        "## First load: CSS and JavaScript",
        "",
        "What base.html links, as served (`Accept-Encoding` of a browser). Versioned URLs "
        "(`?v=<content hash>`) are cached for a year (`immutable`), so this is paid once "
        "per deploy. Target: under 60 KB compressed.",
        "",
        "| file | bytes | gzip | br |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {n} | {a:,} | {b:,} | {c:,} |" for n, a, b, c in rows],
        f"| **total** | **{total[0]:,}** | **{total[1]:,}** | **{total[2]:,}** |",
        "",
        "Smaller Pico builds in node_modules (not switched: the pages use Pico's classes, "
        "and the saving is a few KB compressed):",
        "",
        "| Pico variant | bytes | gzip -6 | br -6 |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {n} | {a:,} | {b:,} | {c:,} |" for n, a, b, c in variants],
    ]
    return "\n".join(lines)


HEADER = """# Benchmarks

Written by `make bench` (`tests/bench/bench_pages.py`); each run replaces its own
section (one per database and size) and the first-load section. Absolute figures
drift with whatever else the machine is doing: compare the × hello column, the
ratio to a Flask hello world served the same way in the same run.
"""


def write_benchmarks(path: Path, sections: dict[str, str]) -> None:
    content = path.read_text() if path.exists() else HEADER
    for key, body in sections.items():
        block = f"<!-- bench:{key} -->\n{body}\n<!-- /bench:{key} -->"
        pattern = re.compile(
            rf"<!-- bench:{re.escape(key)} -->.*?<!-- /bench:{re.escape(key)} -->", re.S
        )
        if pattern.search(content):
            content = pattern.sub(lambda _m, block=block: block, content)
        else:
            content = content.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(content)


# --- profile ----------------------------------------------------------------------------


def profile(
    app, client, paths: list[str], n: int = 50, sort: str = "tottime", callers: str = ""
) -> None:
    for path in paths:
        client.get(path).close()
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(n):
            client.get(path).close()
        prof.disable()
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out).sort_stats(sort)
        total_ms = stats.total_tt / n * 1000
        stats.print_stats(30)
        print(
            f"\n== cProfile {path}: {n} requests, {total_ms:.1f} ms each (profiled), "
            f"{stats.total_calls / n:,.0f} function calls each"
        )
        body = out.getvalue()
        print(body[body.index("ncalls") :] if "ncalls" in body else body)
        if callers:
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(sort).print_callers(callers)
            print(out.getvalue())


# --- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=2000, help="generated sites (2000)")
    parser.add_argument("--duration", type=int, default=5, help="seconds of wrk per page (5)")
    parser.add_argument(
        "--residents", type=int, default=0, help="residence records over the demo rooms (0)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--keep", action="store_true", help="keep the scratch SQLite file")
    parser.add_argument("--profile", action="store_true", help="cProfile /healthz and /sites/")
    parser.add_argument(
        "--profile-path", action="append", default=[], help="page to profile (repeatable)"
    )
    parser.add_argument("--profile-sort", default="tottime", help="pstats sort key (tottime)")
    parser.add_argument("--profile-callers", default="", help="print callers of these (regex)")
    args = parser.parse_args()
    notes = []
    if not args.profile and not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk (make bench does it as root)")

    tmpdir = None
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        tmpdir = tempfile.mkdtemp(prefix="community-bench-")
        url = f"sqlite:///{tmpdir}/bench.db"
    try:
        started = time.perf_counter()
        seeded = prepare_database(url, args.residents)
        app = create_app(bench_config(url))
        fill_s = fill(app, args.sites, activity=True)
        print(f"database ready: {args.sites} generated sites, filled in {fill_s:.1f} s")
        accounts = {a["username"]: a for a in seeded["accounts"]}
        police = accounts["police"]
        client = login_client(app, police)
        clients = {"police": client}

        def client_for(username: str):
            if username not in clients:
                clients[username] = login_client(app, accounts[username])
            return clients[username]

        ids = pick_ids(app, client)
        if args.profile:
            paths = [p.format(**ids) for p in args.profile_path] or ["/healthz", "/sites/"]
            profile(app, client, paths, sort=args.profile_sort, callers=args.profile_callers)
            return

        pages: list[Page] = []
        for label, path, headers in PAGES:
            path = path.format(**{k: urllib.parse.quote(str(v)) for k, v in ids.items()})
            if not route_exists(app, path):
                notes.append(f"{label} (`{path}`): skipped, the app has no such route yet")
                continue
            page = Page(label, path, headers)
            anonymous = label in ANONYMOUS
            count_in_process(
                app, app.test_client() if anonymous else client_for(page_account(label)), page
            )
            pages.append(page)
        workdir = Path(tempfile.mkdtemp(prefix="community-bench-lua-"))
        posts = prepare_posts(app, workdir, args.threads)
        search = search_timing(app, client, ids["q"])
        assets = asset_sizes(app)
        database = database_label(app)
        with app.app_context():
            db.engine.dispose()

        env = app_env(url)
        wrk_args = (args.duration, args.threads, args.connections)
        hello_runs, hello_rss = [], []

        def measure_hello():
            with gunicorn(
                "hello_app:app", env, args.workers, ["--pythonpath", str(ROOT / "tests/bench")]
            ) as (base, proc):
                warm_up(base + "/", {})
                hello_runs.append(run_wrk(base + "/", {}, *wrk_args)["rps"])
                for post in posts:
                    result = run_wrk_script(base + "/", post.script, 0, *wrk_args)
                    post.hello.append(result["rps"])
                    if result["conflict"] or result["client"] or result["server"]:
                        post.notes.append(f"the hello world answered {result['other']}")
                hello_rss[:] = worker_rss_mb(proc.pid)

        measure_hello()
        with gunicorn("app:app", env, args.workers) as (base, proc):
            cookies: dict[str, str] = {}
            for page in pages:
                headers = dict(page.headers)
                if page.label not in ANONYMOUS:
                    username = page_account(page.label)
                    if username not in cookies:
                        cookies[username] = http_login(base, accounts[username])
                    headers["Cookie"] = cookies[username]
                status = http_status(base + page.path, headers)
                if status != page.status:
                    page.wrk_notes.append(f"status {status} over HTTP, {page.status} in-process")
                warm_up(base + page.path, headers)
                result = run_wrk(base + page.path, headers, *wrk_args)
                drain(base)
                page.rps, page.p50, page.p99 = result["rps"], result["p50"], result["p99"]
                page.wrk_notes += result["notes"]
                print(f"  {page.label:<22} {page.rps:>8.0f} req/s  p99 {page.p99:.1f} ms")
            writes_since = utcnow_naive()
            for post in posts:
                warm_up(base + post.warm[0], post.warm[1])
                result = run_wrk_script(base + "/", post.script, post.next_k, *wrk_args)
                drain(base)
                post.next_k = result["next"]
                post.rps, post.p50, post.p99 = result["rps"], result["p50"], result["p99"]
                for name in ("ok", "conflict", "client", "server"):
                    setattr(post, name, result[name])
                if result["other"]:
                    post.notes.append(
                        "answers besides 2xx/3xx and 409: " + ", ".join(result["other"])
                    )
                post.notes += result["notes"]
                print(
                    f"  POST {post.label:<17} {post.rps:>8.0f} req/s  p99 {post.p99:.1f} ms  "
                    f"2xx/3xx {post.ok}  409 {post.conflict}  4xx {post.client}  5xx {post.server}"
                )
            rss = worker_rss_mb(proc.pid)
        measure_hello()
        written_rows(app, posts, writes_since)
        shutil.rmtree(workdir, ignore_errors=True)

        ctx = {
            "db_kind": "PostgreSQL" if database.startswith("PostgreSQL") else "SQLite",
            "sites": args.sites,
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "database": database,
            "fill_s": fill_s,
            "workers": args.workers,
            "threads": args.threads,
            "connections": args.connections,
            "duration": args.duration,
            "hello_runs": hello_runs,
            "hello_rps": statistics.mean(hello_runs),
            "hello_rss": hello_rss,
            "command": command_line(),
            "pages": pages,
            "posts": posts,
            "activity": activity_sizes(args.sites),
            "search": search,
            "rss": rss,
            "notes": notes,
        }
        section = render_section(ctx)
        assets_section = render_assets(assets, pico_variants())
        print()
        print(section)
        print()
        print(assets_section)
        print("\nsearch plan:\n" + search["plan"])
        print(f"\nwhole run: {time.perf_counter() - started:.0f} s")
        if not args.no_write:
            key = f"{ctx['db_kind'].lower()}-{args.sites}"
            write_benchmarks(Path(args.output), {"first-load": assets_section, key: section})
            print(f"written to {args.output} (section {key})")
    finally:
        if tmpdir and not args.keep:
            shutil.rmtree(tmpdir, ignore_errors=True)
        elif tmpdir:
            print(f"scratch database kept: {url}")


if __name__ == "__main__":
    main()
