"""Fixtures: one migrated database per test session, every test in a rolled-back transaction."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import flask_migrate
import pytest
from flask import g
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import event
from sqlalchemy.orm import scoped_session, sessionmaker

from community import create_app
from community.config import TestConfig
from community.core import timeutil
from community.extensions import db, limiter
from tests import dbutil
from tests.factories.accounts import make_user


@pytest.fixture(scope="session")
def app():
    url = dbutil.main_url()
    if dbutil.is_postgres():
        dbutil.reset_postgres(url)
    application = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))

    # Requests made while a test holds an app context reuse it, and with it
    # `g`: forget per-request caches first, as a real server would.
    def _fresh_request_caches():
        for key in ("_login_user", "_memberships", "_flask_babel", "csrf_token", "csrf_valid"):
            g.pop(key, None)

    application.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_caches)
    with application.app_context():
        flask_migrate.upgrade()
        if db.engine.dialect.name == "sqlite":
            _sqlite_savepoint_workaround(db.engine)
    yield application
    with application.app_context():
        db.engine.dispose()


def _sqlite_savepoint_workaround(engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's
    # documented fix: let SQLAlchemy emit BEGIN itself.
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")


@contextmanager
def rolled_back(app):
    """One transaction rolled back at the end; request sessions join it through
    SAVEPOINTs, so their commits stay invisible outside. Yields the connection."""
    with app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=_app_ctx_id,
    )
    try:
        yield connection
    finally:
        with app.app_context():
            db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture(autouse=True)
def _transaction(app):
    """Each test runs inside one transaction rolled back at the end (rolled_back)."""
    with rolled_back(app) as connection:
        limiter.reset()
        yield connection


@pytest.fixture
def frozen_clock(monkeypatch):
    """frozen_clock("2026-12-01 00:30") stops the app's clock at that local time
    (COMMUNITY_TIMEZONE of the tests, Asia/Shanghai; `utc=True` for a UTC time) and
    returns the instant as naive UTC. Every module reads the time through
    community.core.timeutil, whose clock source this replaces; call again to move it."""

    def freeze(when: str | datetime, *, utc: bool = False) -> datetime:
        moment = datetime.fromisoformat(when) if isinstance(when, str) else when
        if moment.tzinfo is None:
            zone = UTC if utc else ZoneInfo(TestConfig.BABEL_DEFAULT_TIMEZONE)
            moment = moment.replace(tzinfo=zone)
        monkeypatch.setattr(timeutil, "_clock", lambda: moment)
        return moment.astimezone(UTC).replace(tzinfo=None)

    return freeze


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def session(app_ctx):
    return db.session


@pytest.fixture
def client(app):
    """A browser whose visitor chose English, so tests read the msgids; the
    Chinese default is tested with clients made by app.test_client()."""
    test_client = app.test_client()
    with test_client.session_transaction() as sess:
        sess["locale"] = "en"
    return test_client


class HtmxClient:
    """A test client that sends HX-Request on every request (a real partial request)."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        method = getattr(self._client, name)
        if name not in {"get", "post"}:
            return method

        def call(*args, headers=None, **kwargs):
            merged = {"HX-Request": "true", **(headers or {})}
            return method(*args, headers=merged, **kwargs)

        return call


@pytest.fixture
def htmx_client(client):
    return HtmxClient(client)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', html
    )
    assert match, "no CSRF token in page"
    return match.group(1)


def logged_in(app, username: str):
    """A test client of `app` logged in as `username` through the real form, in
    English (for tests outside the per-test client fixtures: scratch databases,
    sweeps)."""
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["locale"] = "en"
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    return client


@pytest.fixture
def csrf(client):
    """A CSRF token valid for `client`'s session."""

    def get(path: str = "/login") -> str:
        return csrf_from(client.get(path).get_data(as_text=True))

    return get


PASSWORD = "correct-horse-battery"


@pytest.fixture
def login(client, app):
    """login(user) logs `client` in as that user (through the real form)."""

    def do(user, remember: bool = False):
        username = user if isinstance(user, str) else user.username
        token = csrf_from(client.get("/login").get_data(as_text=True))
        data = {"username": username, "password": PASSWORD, "csrf_token": token}
        if remember:
            data["remember"] = "y"
        resp = client.post("/login", data=data)
        assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
        return user

    return do


@pytest.fixture
def login_as(app, login):
    """login_as(role) creates a user holding `role` in a fitting organization and logs in."""
    from tests.factories.accounts import make_role_user

    def do(role: str, **kwargs):
        with app.app_context():
            user = make_role_user(db.session, role, password=PASSWORD, **kwargs)
            db.session.commit()
            info = {"id": user.id, "username": user.username}
        login(info["username"])
        return info

    return do


@pytest.fixture
def count_queries(app):
    """with count_queries() as q: ...; q.count is the number of SQL statements run."""

    @contextmanager
    def counter():
        class Box:
            count = 0
            statements: list[str] = []

        box = Box()
        box.statements = []
        with app.app_context():
            engine = db.engine

        def before(conn, cursor, statement, parameters, context, executemany):
            if statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                return
            box.count += 1
            box.statements.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            yield box
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counter


__all__ = ["PASSWORD", "csrf_from", "make_user"]
