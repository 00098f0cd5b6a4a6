"""The double-booking guarantee under real concurrency, on committed data in a
database of its own (a SQLite file, or a scratch PostgreSQL database when
TEST_DATABASE_URL is one): 20 clients, each its own logged-in browser session and
request, book one slot at once — of one room (20 cases, 20 mediators) or of one
mediator (20 rooms) — and exactly one wins; the others get 409 naming the winning
booking. The suite's rolled-back transaction is switched off here."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import time, timedelta

import flask_migrate
import pytest
from sqlalchemy import func, select

from community import create_app
from community.accounts import services as accounts
from community.config import TestConfig
from community.core.timeutil import now_local
from community.extensions import db
from community.mediation import services
from community.mediation.models import MediationCase, MediationSession
from tests import dbutil
from tests.conftest import PASSWORD, csrf_from

CLIENTS = 20


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: these tests commit for real."""


@pytest.fixture
def race(request):
    """(app, ids): a migrated scratch database with a mediation team (a lead and 20
    mediators), 20 rooms and 20 accepted cases, committed; dropped after."""
    url = dbutil.scratch_url(f"medrace_{request.node.name[5:20].lower()}")
    # Writers wait for each other (up to a minute here: a loaded test machine is not
    # what is measured); a 503 would say the lock outlasted the wait, not a double booking.
    app = create_app(
        type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, "SQLITE_BUSY_TIMEOUT": 60.0})
    )
    with app.app_context():
        flask_migrate.upgrade()
        s = db.session
        district = accounts.create_area(s, "区", "district", None)
        street = accounts.create_area(s, "街道", "street", district)
        area = accounts.create_area(s, "社区", "community", street)
        team = accounts.create_organization(s, "调解队", "mediation_team", area)
        station = accounts.create_organization(s, "派出所", "police_station", area)
        lead = accounts.create_user(s, "lead", PASSWORD, display_name="队长")
        services.add_member(s, None, team, lead, "lead", "professional")
        police = accounts.create_user(s, "police", PASSWORD, display_name="民警")
        accounts.add_membership(s, None, police, "police", station, None)
        mediators, rooms, cases = [], [], []
        for i in range(CLIENTS):
            m = accounts.create_user(s, f"mediator{i}", PASSWORD, display_name=f"调解员{i}")
            services.add_member(s, None, team, m, "mediator", "social")
            mediators.append(m)
            rooms.append(
                services.save_room(
                    s,
                    None,
                    services.RoomInput(f"调解室{i}", area, "东路", "outstation", time(8), time(20)),
                )
            )
        for i in range(CLIENTS):
            case = services.open_case(
                s,
                police,
                services.CaseInput(
                    "rent",
                    "visit",
                    area,
                    "押金",
                    "low",
                    [
                        services.PartyInput(f"甲{i}", f"138{i:08d}", "applicant"),
                        services.PartyInput(f"乙{i}", f"137{i:08d}", "respondent"),
                    ],
                ),
            )
            others = tuple(m.id for m in mediators if m.id != mediators[i].id)
            services.accept_case(s, lead, case, services.Assignment(mediators[i].id, others))
            cases.append(case)
        s.commit()
        ids = {
            "mediators": [m.id for m in mediators],
            "rooms": [r.id for r in rooms],
            "cases": [c.id for c in cases],
        }
        s.remove()
    yield app, ids
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    dbutil.drop_scratch(url)


def _logged_in_clients(app, n):
    clients = []
    for _ in range(n):
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["locale"] = "en"
        token = csrf_from(client.get("/login").get_data(as_text=True))
        resp = client.post(
            "/login", data={"username": "lead", "password": PASSWORD, "csrf_token": token}
        )
        assert resp.status_code == 303
        clients.append(client)
    return clients


def _slot():
    day = now_local().date() + timedelta(days=2)
    return f"{day.isoformat()}T10:00", f"{day.isoformat()}T11:00"


def _race(app, jobs):
    """POST every (case_id, data) at once, each from its own client."""
    clients = _logged_in_clients(app, len(jobs))
    prepared = []
    for client, (case_id, data) in zip(clients, jobs, strict=True):
        token = csrf_from(client.get(f"/mediation/{case_id}").get_data(as_text=True))
        prepared.append((client, case_id, {**data, "csrf_token": token}))
    barrier = threading.Barrier(len(prepared))

    def post(job):
        client, case_id, data = job
        barrier.wait()
        resp = client.post(f"/mediation/{case_id}/sessions", data=data)
        return resp.status_code, resp.get_data(as_text=True)

    with ThreadPoolExecutor(len(prepared)) as pool:
        return list(pool.map(post, prepared))


def _winner_number(app):
    with app.app_context():
        s = db.session
        live = list(s.scalars(select(MediationSession).where(MediationSession.status == "booked")))
        number = s.scalar(select(MediationCase.number).where(MediationCase.id == live[0].case_id))
        count = s.scalar(select(func.count(MediationSession.id)))
        s.remove()
    return len(live), count, number


def test_twenty_clients_booking_one_room_slot_one_wins(race):
    app, ids = race
    start, end = _slot()
    room = ids["rooms"][0]
    jobs = [
        (case_id, {"room_id": str(room), "mediator_id": str(m), "starts_at": start, "ends_at": end})
        for case_id, m in zip(ids["cases"], ids["mediators"], strict=True)
    ]
    results = _race(app, jobs)
    assert Counter(code for code, _body in results) == {303: 1, 409: CLIENTS - 1}, [
        (code, body[-300:]) for code, body in results if code not in (303, 409)
    ]
    live, count, number = _winner_number(app)
    assert live == 1 and count == 1
    assert all(number in body for code, body in results if code == 409)


def test_twenty_clients_booking_one_mediator_in_twenty_rooms_one_wins(race):
    app, ids = race
    start, end = _slot()
    busy = ids["mediators"][0]
    jobs = [
        (case_id, {"room_id": str(r), "mediator_id": str(busy), "starts_at": start, "ends_at": end})
        for case_id, r in zip(ids["cases"], ids["rooms"], strict=True)
    ]
    results = _race(app, jobs)
    assert Counter(code for code, _body in results) == {303: 1, 409: CLIENTS - 1}
    live, count, number = _winner_number(app)
    assert live == 1 and count == 1
    assert all("调解员0" in body and number in body for code, body in results if code == 409)
