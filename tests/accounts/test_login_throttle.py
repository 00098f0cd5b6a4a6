"""Failed logins are counted where every worker sees them (the database, or Redis when
REDIS_URL is set): per address and username, and per address across usernames."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from community import create_app
from community.accounts import auth
from community.accounts.models import LoginFailure
from community.config import TestConfig, shared_storage_warning
from community.core.timeutil import utcnow
from community.extensions import db
from tests import dbutil
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_role_user
from tests.multihost import ROOT, Browser, free_port

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")


@pytest.fixture
def user(app):
    with app.app_context():
        make_role_user(db.session, "police", username="officer", password=PASSWORD)
        db.session.commit()


def _post(client, username, password, address="127.0.0.1"):
    environ = {"REMOTE_ADDR": address}
    token = csrf_from(client.get("/login", environ_base=environ).get_data(as_text=True))
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        environ_base=environ,
    )


def _failures(session) -> int:
    return session.scalar(select(func.count()).select_from(LoginFailure))


def test_the_limit_answers_429_with_retry_after_and_the_error_page(app, user):
    client = app.test_client()
    for _ in range(app.config["LOGIN_FAILURES_PER_MINUTE"]):
        assert _post(client, "officer", "wrong-password!").status_code == 401
    resp = _post(client, "officer", PASSWORD)
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert "Too many attempts" in resp.get_data(as_text=True) or "尝试" in resp.get_data(
        as_text=True
    )


def test_one_password_against_many_usernames_is_stopped_per_address(app, user):
    client = app.test_client()
    limit = app.config["LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE"]
    assert limit == 30
    for n in range(limit):
        assert _post(client, f"guess{n}", "Summer2026!").status_code == 401
    assert _post(client, "guess-next", "Summer2026!").status_code == 429
    # The address is blocked for every username, even a right password ...
    assert _post(client, "officer", PASSWORD).status_code == 429
    # ... but another address is not.
    assert _post(app.test_client(), "officer", PASSWORD, address="10.0.0.7").status_code == 303


def test_a_success_elsewhere_does_not_reset_an_address_count(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_MINUTE", 3)
    attacker = app.test_client()
    for _ in range(3):
        assert _post(attacker, "officer", "wrong-password!", "10.0.0.66").status_code == 401
    assert _post(app.test_client(), "officer", PASSWORD, "10.0.0.1").status_code == 303
    assert _post(attacker, "officer", "wrong-password!", "10.0.0.66").status_code == 429


def test_failures_expire_after_a_minute(app, user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_MINUTE", 2)
    client = app.test_client()
    for _ in range(2):
        _post(client, "officer", "wrong-password!")
    assert _post(client, "officer", PASSWORD).status_code == 429
    later = time.time() + 61
    monkeypatch.setattr(auth.time, "time", lambda: later)
    assert _post(client, "officer", PASSWORD).status_code == 303


def test_a_failure_stores_neither_password_nor_username(app, user, session):
    client = app.test_client()
    assert _post(client, "Officer", "my-secret-pw!").status_code == 401
    row = session.scalars(select(LoginFailure)).one()
    stored = " ".join(str(v) for v in (row.address, row.username_hash))
    assert row.address == "127.0.0.1"
    assert "my-secret-pw" not in stored and "fficer" not in stored.lower()
    with app.app_context():
        assert row.username_hash == auth.username_key("officer")  # case-insensitive


def test_rows_older_than_the_window_are_deleted_on_write(app, user, session):
    session.add(
        LoginFailure(at=utcnow() - timedelta(minutes=5), address="10.9.9.9", username_hash="x")
    )
    session.commit()
    assert _failures(session) == 1
    _post(app.test_client(), "officer", "wrong-password!")
    assert session.scalars(select(LoginFailure.address)).all() == ["127.0.0.1"]


def test_invalid_forms_and_successes_are_not_counted(app, user, session):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": "", "csrf_token": token}).status_code == 422
    assert _post(client, "officer", PASSWORD).status_code == 303
    assert _failures(session) == 0


@pytest.mark.parametrize(
    "workers,config,warned",
    [
        (2, {"RATELIMIT_STORAGE_URI": "memory://", "REDIS_URL": None}, True),
        (1, {"RATELIMIT_STORAGE_URI": "memory://", "REDIS_URL": None}, False),
        (4, {"RATELIMIT_STORAGE_URI": "redis://r:6379/0", "REDIS_URL": "redis://r:6379/0"}, False),
    ],
)
def test_start_up_warning_for_several_workers_without_shared_storage(workers, config, warned):
    message = shared_storage_warning(workers, config)
    assert (message is not None) is warned
    if warned:
        assert "REDIS_URL" in message and str(workers) in message


# --- several processes --------------------------------------------------------


def _serve(url: str, workers: int, extra_env: dict, log_path: Path):
    """Start gunicorn on a free port; returns (process, base URL) without waiting."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "TEST_DATABASE_URL")},
        "DATABASE_URL": url,
        "SECRET_KEY": "shared-by-both-servers",
        "COMMUNITY_DATA_KEY": TestConfig.COMMUNITY_DATA_KEY,
        "LOGIN_FAILURES_PER_MINUTE": "4",
        "LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE": "10",
        **extra_env,
    }
    with log_path.open("w") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "-w", str(workers)),
                *("-b", f"127.0.0.1:{port}", "--no-control-socket", "app:app"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return proc, f"http://127.0.0.1:{port}"


def _wait_until_up(proc, base: str, log_path: Path) -> None:
    # Generous: on a loaded 2-core machine a worker takes tens of seconds to import the
    # app. A server that never comes up is stopped here, so no process outlives the test.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=5).close()
            return
        except OSError:
            time.sleep(0.2)
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=30)
    raise AssertionError(f"gunicorn did not start: {log_path.read_text()[-2000:]}")


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.parametrize("storage", ["database", "redis"])
def test_the_limits_hold_across_two_servers_sharing_the_storage(app, storage, tmp_path):
    """Two gunicorn servers (one of them with two workers) on one database: failures
    made on either count for both (Flask-Limiter's memory storage counted per worker).
    The servers run with limits of 4 and 10 to keep the test short."""
    extra = {}
    if storage == "redis":
        if not _redis_reachable():
            # CI runs a Redis: there an unreachable one is a failure, never a skip.
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"Redis is not reachable at {REDIS_URL}; CI must test it")
            pytest.skip(f"Redis is not reachable at {REDIS_URL}")
        extra = {
            "REDIS_URL": REDIS_URL,
            "LOGIN_THROTTLE_REDIS_PREFIX": f"community-test-{uuid.uuid4().hex}:",
        }
    url = dbutil.scratch_url(f"throttle_{storage}")
    scratch = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with scratch.app_context():
        flask_migrate.upgrade()
        engine = db.engines[None] if None in db.engines else db.engine
        with Session(engine) as session:
            make_role_user(session, "police", username="officer", password=PASSWORD)
            session.commit()
        engine.dispose()

    logs = [tmp_path / "two-workers.log", tmp_path / "one-worker.log"]
    servers = [_serve(url, 2, extra, logs[0]), _serve(url, 1, extra, logs[1])]
    try:
        for (proc, base), log in zip(servers, logs, strict=True):
            _wait_until_up(proc, base, log)
        browsers = [Browser(base) for _, base in servers]
        # Four failures for one username (the servers' limit), alternating servers ...
        for n in range(4):
            assert browsers[n % 2].try_login("officer", "wrong-password!") == 401
        # ... and both refuse the fifth, even with the right password.
        assert [b.try_login("officer", PASSWORD) for b in browsers] == [429, 429]
        # Across usernames: six more failures make ten for this address.
        for n in range(6):
            assert browsers[n % 2].try_login(f"guess{n}", "Summer2026!") == 401
        assert [b.try_login("someone-else", "Summer2026!") for b in browsers] == [429, 429]
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=10)
    two_workers, one_worker = (log.read_text() for log in logs)
    if storage == "database":
        assert "2 workers without REDIS_URL" in two_workers
    else:
        assert "without REDIS_URL" not in two_workers
    assert "without REDIS_URL" not in one_worker
