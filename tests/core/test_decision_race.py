"""Two officers deciding the same registration at the same moment, through the real
app on committed data in a database of its own (a SQLite file, or a scratch
PostgreSQL database when TEST_DATABASE_URL is one): the loser is told it was
already decided (409), never "database busy" (503). On SQLite this needs every
write request's transaction to take the write lock first (BEGIN IMMEDIATE); a
reading request must not (readers never wait). The suite's rolled-back
transaction is switched off here."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import flask_migrate
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from community import create_app
from community.config import TestConfig
from community.extensions import db
from community.residents import queries as residents
from tests import dbutil
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import make_residence

PAIRS = 10
ALREADY = "This registration was already decided."


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: these tests commit for real."""


def _drop(app, url: str) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    dbutil.drop_scratch(url)


@pytest.fixture
def officers(request):
    """(app, [client, client], residence ids): two police officers of one street,
    each logged in on a client of their own, and PAIRS pending registrations."""
    name = "".join(c for c in request.node.name[5:25].lower() if c.isalnum() or c == "_")
    url = dbutil.scratch_url(f"decide_{name}")
    extra = getattr(request, "param", {})  # settings, by indirect parametrization
    app = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, **extra}))
    try:
        with app.app_context():
            flask_migrate.upgrade()
            s = db.session
            _, street, community = make_area_tree(s)
            station = make_org(s, area=street)
            police = [make_role_user(s, "police", password=PASSWORD, org=station) for _ in range(2)]
            landlord = make_role_user(s, "landlord", password=PASSWORD, area=community)
            site = make_site(s, area=community, landlord=landlord)
            room = make_room(s, building=make_building(s, site=site))
            s.expire(room)
            room = residents.get_room(s, room.id)
            ids = [make_residence(s, room=room, reporter=landlord).id for _ in range(PAIRS)]
            s.commit()
            names = [p.username for p in police]
            s.remove()
        clients = []
        for name in names:
            client = app.test_client()
            with client.session_transaction() as sess:
                sess["locale"] = "en"
            token = csrf_from(client.get("/login").get_data(as_text=True))
            resp = client.post(
                "/login", data={"username": name, "password": PASSWORD, "csrf_token": token}
            )
            assert resp.status_code == 303
            clients.append(client)
        yield app, clients, ids
    finally:
        _drop(app, url)


def _decide_at_once(clients, paths_and_data) -> list:
    """POST each (path, data) from its own client, all released at the same moment."""
    barrier = threading.Barrier(len(clients))

    def work(i):
        path, data = paths_and_data[i]
        barrier.wait()
        return clients[i].post(path, data=data)

    with ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(work, range(len(clients))))


def _token(client) -> str:
    return csrf_from(client.get("/residents/").get_data(as_text=True))


@pytest.mark.parametrize("route", ["verify", "queue"])
def test_the_losing_decision_gets_409_with_the_message_never_503(officers, route):
    app, clients, ids = officers
    outcomes = []
    for residence_id in ids:
        if route == "verify":
            path, extra = f"/residents/{residence_id}/verify", {}
        else:
            path, extra = f"/reviews/residence/{residence_id}", {"decision": "approve"}
        jobs = [(path, {"csrf_token": _token(c), **extra}) for c in clients]
        answers = _decide_at_once(clients, jobs)
        statuses = sorted(r.status_code for r in answers)
        outcomes.append(tuple(statuses))
        for r in answers:
            if r.status_code == 409:
                assert ALREADY in r.get_data(as_text=True)
    assert Counter(outcomes) == {(303, 409): PAIRS}, Counter(outcomes)


@pytest.mark.skipif(dbutil.is_postgres(), reason="SQLite's transaction modes")
def test_writes_take_the_lock_first_and_reads_never_wait_for_it(officers):
    """A POST's first statement takes the write lock (BEGIN IMMEDIATE), before any
    read; a GET never does, and answers while another writer holds the lock."""
    import sqlite3

    app, clients, ids = officers
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    token = _token(clients[0])
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert clients[0].get("/residents/").status_code == 200
        reads = list(statements)
        statements.clear()
        resp = clients[0].post(f"/residents/{ids[0]}/verify", data={"csrf_token": token})
        assert resp.status_code == 303
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert reads and not [s for s in reads if s.startswith("BEGIN")], reads
    assert statements[0] == "BEGIN IMMEDIATE", statements[:3]

    other = sqlite3.connect(make_url(str(engine.url)).database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer, holding the lock
    try:
        assert clients[0].get("/residents/").status_code == 200
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.mark.skipif(dbutil.is_postgres(), reason="SQLite's write lock")
@pytest.mark.parametrize("officers", [{"SQLITE_BUSY_TIMEOUT": 0.2}], indirect=True)
def test_a_decision_waiting_past_the_busy_timeout_answers_503_not_500(officers):
    """Another writer holds the lock longer than the busy timeout: the logged-in
    officer's decision answers 503 with Retry-After and the 503 page (drawn without
    the database: the user is not read again), and decides nothing."""
    import sqlite3

    from community.residents.models import Residence

    app, clients, ids = officers
    token = _token(clients[0])
    with app.app_context():
        path = make_url(str(db.engine.url)).database
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        for headers in ({}, {"HX-Request": "true"}):
            resp = clients[0].post(
                f"/residents/{ids[0]}/verify", data={"csrf_token": token}, headers=headers
            )
            assert resp.status_code == 503, resp.get_data(as_text=True)[:300]
            assert int(resp.headers["Retry-After"]) >= 1
            assert 'id="error"' in resp.get_data(as_text=True)
    finally:
        other.execute("ROLLBACK")
        other.close()
    with app.app_context():
        assert db.session.get(Residence, ids[0]).status == "pending"
        db.session.remove()
    # Once the lock is free, the same decision goes through.
    resp = clients[0].post(f"/residents/{ids[0]}/verify", data={"csrf_token": token})
    assert resp.status_code == 303


@pytest.mark.parametrize(
    "path, immediate",
    [
        ("/residents/1/verify", True),  # a decision: the lock first
        ("/sites/1/hazards/new", False),  # a photo is decoded before the first write
        ("/hazards/1/fix", False),
    ],
)
def test_a_view_that_reads_first_begins_deferred(app, path, immediate):
    """core.once.reads_first keeps SQLite's deferred BEGIN for a POST whose slow part
    (decoding a photo, reading a spreadsheet) comes before its first write."""
    from community import _sqlite_begin

    sent: list[str] = []

    class Connection:
        def exec_driver_sql(self, statement):
            sent.append(statement)

    with app.test_request_context(path, method="POST"):
        _sqlite_begin(Connection())
    assert sent == (["BEGIN IMMEDIATE"] if immediate else [])


def test_two_verifications_of_one_person_at_once_leave_one_active_residence(officers):
    """The same person reported in two rooms of one area, both reports verified at
    the same moment by two officers: both succeed, and the person lives in one
    place — the later verification ended the earlier one (they take turns on the
    person row; without that, PostgreSQL let both stay active)."""
    from sqlalchemy import func, select

    from community.accounts.models import User
    from community.residents.models import Residence
    from tests.factories.residents import id_number

    app, clients, ids = officers
    with app.app_context():
        s = db.session
        first = s.get(Residence, ids[0])
        room = residents.get_room(s, first.room_id)
        other_room = residents.get_room(s, make_room(s, building=room.building, number="双-2").id)
        landlord = s.get(User, room.building.site.landlord_id)
        pairs = []
        for _ in range(PAIRS):
            number = id_number()
            pairs.append(
                [
                    make_residence(s, room=r, reporter=landlord, number=number).id
                    for r in (room, other_room)
                ]
            )
        s.commit()
        s.remove()
    for pair in pairs:
        jobs = [
            (f"/residents/{rid}/verify", {"csrf_token": _token(c)})
            for rid, c in zip(pair, clients, strict=True)
        ]
        answers = _decide_at_once(clients, jobs)
        assert sorted(r.status_code for r in answers) == [303, 303]
    with app.app_context():
        s = db.session
        for pair in pairs:
            person_id = s.get(Residence, pair[0]).person_id
            active = s.scalar(
                select(func.count()).where(
                    Residence.person_id == person_id,
                    Residence.status == "verified",
                    Residence.move_out.is_(None),
                )
            )
            assert active == 1, pair
        s.remove()
