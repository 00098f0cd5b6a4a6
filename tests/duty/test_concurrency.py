"""The guarantee under real concurrency, on committed data in a database of its own
(a SQLite file, or a scratch PostgreSQL database when TEST_DATABASE_URL is one):
threads on SQLite, separate processes on PostgreSQL, and two app servers sharing
the PostgreSQL database. The suite's rolled-back transaction is switched off here."""

from __future__ import annotations

import http.client
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import flask_migrate
import pytest
from flask import g
from flask import session as flask_session
from flask_babel import force_locale
from flask_login import login_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from community import create_app
from community.accounts import services as accounts
from community.accounts.auth import start_session
from community.accounts.models import User
from community.config import TestConfig
from community.core.errors import Conflict
from community.core.timeutil import utcnow
from community.duty import services
from community.duty.models import DutyClaim, DutyTask
from community.extensions import db
from tests import dbutil

ROOT = Path(__file__).resolve().parents[2]
SECRET = "race-secret-key-shared-by-both-servers"
DATA_KEY = TestConfig.COMMUNITY_DATA_KEY


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: these tests commit for real."""


@pytest.fixture
def race(request):
    """(app, url, ids): a migrated scratch database with a coordinator, 60
    volunteers (`ids["volunteers"]`) of one community, committed; dropped after."""
    url = dbutil.scratch_url(f"race_{request.node.name[:20].lower()}")
    app = create_app(
        type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    )
    with app.app_context():
        flask_migrate.upgrade()
        s = db.session
        district = accounts.create_area(s, "区", "district", None)
        street = accounts.create_area(s, "街道", "street", district)
        community = accounts.create_area(s, "社区", "community", street)
        office = accounts.create_organization(s, "居委会", "community_office", community)
        coordinator = User(username="coord", display_name="coord", password_hash="!")
        s.add(coordinator)
        s.flush()
        accounts.add_membership(s, None, coordinator, "coordinator", office, None)
        volunteers = []
        for i in range(60):
            user = User(username=f"v{i}", display_name=f"志愿者{i}", password_hash="!")
            s.add(user)
            s.flush()
            accounts.add_membership(s, None, user, "volunteer", None, community)
            volunteers.append(user.id)
        s.commit()
        ids = {"area": community.id, "coordinator": coordinator.id, "volunteers": volunteers}
        s.remove()
    yield app, url, ids
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    dbutil.drop_scratch(url)


def _publish(app, ids, capacity: int) -> int:
    from community.accounts.models import Area

    with app.app_context():
        s = db.session
        start = (utcnow() + timedelta(days=2)).replace(microsecond=0)
        task = services.publish_duty(
            s,
            s.get(User, ids["coordinator"]),
            services.DutyInput(
                title="巡逻",
                kind="patrol",
                area=s.get(Area, ids["area"]),
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                capacity=capacity,
                points=5,
                checkpoints="东门",
            ),
        )[0]
        s.commit()
        task_id = task.id
        s.remove()
    return task_id


def _act(app, action: str, task_id: int, user_id: int) -> str:
    """One request's worth of work: the service call, commit or roll back."""
    with app.app_context(), force_locale("en"):
        s = db.session
        try:
            user, task = s.get(User, user_id), s.get(DutyTask, task_id)
            if action == "claim":
                services.claim_duty(s, user, task)
            else:
                services.cancel_claim(s, user, task)
            s.commit()
            return "ok"
        except services.DutyFull:
            s.rollback()
            return "full"
        except Conflict as exc:
            s.rollback()
            return f"conflict: {exc.message}"
        except OperationalError as exc:
            s.rollback()
            return f"busy: {exc.orig}"
        finally:
            s.remove()


def _in_process(app, jobs, barrier, queue, index):
    # A forked child must not reuse the parent's connections.
    with app.app_context():
        db.engine.dispose(close=False)
    action, task_id, user_id = jobs[index]
    barrier.wait()
    queue.put((index, _act(app, action, task_id, user_id)))


def _run_all(app, url: str, jobs: list[tuple[str, int, int]]) -> list[str]:
    """Run the jobs at once: threads on SQLite, forked processes on PostgreSQL."""
    if make_url(url).get_backend_name() == "sqlite":
        barrier = threading.Barrier(len(jobs))

        def work(job):
            barrier.wait()
            return _act(app, *job)

        with ThreadPoolExecutor(len(jobs)) as pool:
            return list(pool.map(work, jobs))
    ctx = multiprocessing.get_context("fork")
    barrier, queue = ctx.Barrier(len(jobs)), ctx.Queue()
    with app.app_context():
        db.engine.dispose()
    procs = [
        ctx.Process(target=_in_process, args=(app, jobs, barrier, queue, i))
        for i in range(len(jobs))
    ]
    for p in procs:
        p.start()
    results = dict(queue.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=30)
    return [results[i] for i in range(len(jobs))]


def _state(app, task_id):
    with app.app_context():
        s = db.session
        task = s.get(DutyTask, task_id)
        by_status = dict(
            s.execute(
                select(DutyClaim.status, func.count())
                .where(DutyClaim.task_id == task_id)
                .group_by(DutyClaim.status)
            ).all()
        )
        claimed_ids = set(
            s.scalars(
                select(DutyClaim.volunteer_id).where(
                    DutyClaim.task_id == task_id, DutyClaim.status == "claimed"
                )
            )
        )
        taken = task.taken
        s.remove()
    return taken, by_status, claimed_ids


def test_fifty_volunteers_claiming_five_places_at_once(race):
    app, url, ids = race
    task_id = _publish(app, ids, capacity=5)
    results = _run_all(app, url, [("claim", task_id, v) for v in ids["volunteers"][:50]])
    assert Counter(results) == {"ok": 5, "full": 45}, Counter(results)
    taken, by_status, _ids = _state(app, task_id)
    assert taken == 5 and by_status == {"claimed": 5}


def test_same_volunteer_claiming_twice_at_once_gets_one_claim(race):
    app, url, ids = race
    task_id = _publish(app, ids, capacity=5)
    volunteer = ids["volunteers"][0]
    results = _run_all(app, url, [("claim", task_id, volunteer)] * 8)
    assert results.count("ok") == 1, results
    assert all("already claimed" in r for r in results if r != "ok"), results
    taken, by_status, _ids = _state(app, task_id)
    assert taken == 1 and by_status == {"claimed": 1}


def test_concurrent_cancels_give_each_freed_place_to_exactly_one_waiting(race):
    app, url, ids = race
    task_id = _publish(app, ids, capacity=5)
    holders, waiting, newcomers = (
        ids["volunteers"][:5],
        ids["volunteers"][5:15],
        ids["volunteers"][15:20],
    )
    with app.app_context():
        s = db.session
        task = s.get(DutyTask, task_id)
        for v in holders:
            services.claim_duty(s, s.get(User, v), task)
            s.commit()
        for v in waiting:
            services.join_waiting_list(s, s.get(User, v), task)
            s.commit()
        s.remove()
    jobs = [("cancel", task_id, v) for v in holders] + [("claim", task_id, v) for v in newcomers]
    results = _run_all(app, url, jobs)
    assert results[:5] == ["ok"] * 5, results
    assert results[5:] == ["full"] * 5, results
    taken, by_status, claimed = _state(app, task_id)
    assert taken == 5
    assert by_status == {"cancelled": 5, "claimed": 5, "waiting": 5}
    assert claimed == set(waiting[:5])


# --- two app servers sharing one PostgreSQL database -------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "COMMUNITY_DATA_KEY": DATA_KEY,
        "FLASK_DEBUG": "0",
    }
    env.pop("TEST_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(port), "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"server on port {port} did not start")


def _session_cookie(app, user_id: int) -> tuple[str, str]:
    """A logged-in session cookie and its CSRF token, made as /login would."""
    with app.test_request_context():
        user = db.session.get(User, user_id)
        login_user(user)
        start_session()
        g.pop("csrf_token", None)  # Flask-WTF caches it on the app context
        token = generate_csrf()
        cookie = app.session_interface.get_signing_serializer(app).dumps(dict(flask_session))
        db.session.remove()
    return cookie, token


def _post(port: int, path: str, cookie: str, token: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = urlencode({"csrf_token": token})
    conn.request(
        "POST",
        path,
        body=body,
        headers={
            "Cookie": f"session={cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    status = conn.getresponse().status
    conn.close()
    return status


@pytest.mark.skipif(not dbutil.is_postgres(), reason="needs TEST_DATABASE_URL on PostgreSQL")
def test_two_app_servers_sharing_postgres_never_overbook(race):
    app, url, ids = race
    task_id = _publish(app, ids, capacity=5)
    volunteers = ids["volunteers"][:50]
    sessions = [_session_cookie(app, v) for v in volunteers]
    ports = [_free_port(), _free_port()]
    servers = [_serve(url, port) for port in ports]
    try:
        barrier = threading.Barrier(len(sessions))

        def work(i):
            cookie, token = sessions[i]
            barrier.wait()
            return _post(ports[i % 2], f"/duties/{task_id}/claim", cookie, token)

        with ThreadPoolExecutor(len(sessions)) as pool:
            statuses = list(pool.map(work, range(len(sessions))))
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(timeout=10)
    assert Counter(statuses) == {303: 5, 409: 45}, Counter(statuses)
    taken, by_status, _ids = _state(app, task_id)
    assert taken == 5 and by_status == {"claimed": 5}
