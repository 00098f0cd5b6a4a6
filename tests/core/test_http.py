"""Security headers, error pages, the health check and the htmx rendering helper."""

from __future__ import annotations

import logging

import pytest
from flask import Blueprint
from sqlalchemy.exc import OperationalError

from community.config import TestConfig
from community.extensions import db
from tests.dbutil import is_postgres, main_url


def test_security_headers_on_public_page(client):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    for part in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert part in csp
    assert "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert "HX-Request" in resp.headers["Vary"]
    assert "Strict-Transport-Security" not in resp.headers


def test_pages_behind_login_are_not_cached(client, login_as):
    login_as("police")
    resp = client.get("/")
    assert resp.headers["Cache-Control"] == "no-store"


def test_no_inline_scripts_and_htmx_is_locked_down(client):
    html = client.get("/login").get_data(as_text=True)
    import re

    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag, f"inline script: {tag}"
    assert '"allowEval": false' in html
    assert '"allowScriptTags": false' in html
    assert '"selfRequestsOnly": true' in html
    assert '"historyCacheSize": 0' in html
    assert '"code": "422", "swap": true' in html
    assert 'name="csrf-token"' in html
    assert "X-CSRFToken" in html


def test_404_is_a_full_page_normally_and_a_fragment_for_htmx(client, htmx_client):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "<html" in page.get_data(as_text=True)
    fragment = htmx_client.get("/no/such/page")
    assert fragment.status_code == 404
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and 'id="error"' in body


def test_boosted_navigation_gets_the_full_page(client):
    resp = client.get("/no/such/page", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in resp.get_data(as_text=True)


def test_405_for_wrong_method(client):
    assert client.get("/logout").status_code == 405


@pytest.fixture
def boom_app(app):
    """An app of its own with a route that fails (the shared app keeps its routes)."""
    from community import create_app

    other = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": main_url()}))
    bp = Blueprint("boom", __name__)

    @bp.route("/_test/boom")
    def fail():
        raise RuntimeError("secret detail 330302199001011234")

    other.register_blueprint(bp)
    return other


def test_500_shows_an_incident_id_that_is_also_logged(boom_app, caplog):
    client = boom_app.test_client()
    with caplog.at_level(logging.ERROR, logger="community"):
        resp = client.get("/_test/boom")
    assert resp.status_code == 500
    body = resp.get_data(as_text=True)
    assert "Traceback" not in body and "secret detail" not in body
    import re

    incident = re.search(r"<code>([0-9a-f]{12})</code>", body).group(1)
    assert any(incident in record.getMessage() for record in caplog.records)


def test_healthz_ok(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_503_when_the_database_fails(client, monkeypatch):
    from community.core import health

    def broken(engine):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(health, "ping", broken)
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json() == {"status": "error", "database": "error"}


def test_healthz_is_answered_without_a_session_or_cookie(client, login_as):
    """The load balancer's poll costs no session, user or rate-limit work: it sets no
    cookie and is never cached, logged in or not."""
    login_as("police")
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok", "database": "ok"}
    assert "Set-Cookie" not in resp.headers
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    head = client.head("/healthz")
    assert head.status_code == 200 and head.data == b""


def test_healthz_exists_once_in_front_of_flask(app, client):
    """/healthz is the middleware's (core.health) alone: Flask has no route for it."""
    assert not [r for r in app.url_map.iter_rules() if r.rule == "/healthz"]
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}


def test_request_too_large_is_413_not_500(client):
    big = "x" * (client.application.config["MAX_CONTENT_LENGTH"] + 10)
    resp = client.post("/login", data={"username": big})
    assert resp.status_code == 413


def test_ids_beyond_the_integer_columns_are_404_not_500(client, login_as):
    login_as("admin")
    for path in ("/admin/orgs/99999999999999999999", "/admin/users/2147483648"):
        assert client.get(path).status_code == 404


def test_missing_secret_key_stops_the_start_with_one_line():
    from community import create_app
    from community.config import Config

    cfg = type("Prod", (Config,), {"SECRET_KEY": None, "DEBUG": False, "TESTING": False})
    with pytest.raises(SystemExit) as stopped:
        create_app(cfg)
    message = str(stopped.value)
    assert "SECRET_KEY" in message and "\n" not in message


@pytest.mark.skipif(not main_url().startswith("sqlite"), reason="SQLite settings")
def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(session):
    assert session.execute(db.text("PRAGMA foreign_keys")).scalar() == 1
    assert session.execute(db.text("PRAGMA busy_timeout")).scalar() == 5000
    assert session.execute(db.text("PRAGMA journal_mode")).scalar() == "wal"


def test_a_lock_wait_that_runs_out_answers_503_with_retry_after(tmp_path, monkeypatch):
    """Another writer holds SQLite's write lock past the busy timeout: the request
    answers 503 with Retry-After, saves nothing, and is not a 500."""
    if is_postgres():
        pytest.skip("SQLite's write lock")
    import sqlite3

    import flask_migrate

    from community import create_app
    from tests.conftest import PASSWORD, csrf_from
    from tests.factories.accounts import make_user

    path = tmp_path / "locked.db"
    cfg = type(
        "Cfg",
        (TestConfig,),
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SQLITE_BUSY_TIMEOUT": 0.2},
    )
    app = create_app(cfg)
    # The suite binds db.session to its rolled-back test connection: this app needs
    # a real session on its own file.
    monkeypatch.setattr(db, "session", db._make_scoped_session({}))
    with app.app_context():
        flask_migrate.upgrade()
        make_user(db.session, username="officer", password=PASSWORD)
        db.session.commit()
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer
    try:
        resp = client.post(
            "/login", data={"username": "officer", "password": PASSWORD, "csrf_token": token}
        )
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert resp.status_code == 503
    assert int(resp.headers["Retry-After"]) >= 1
    assert 'id="error"' in resp.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_instance_config_gives_local_keys_and_the_environment_wins(tmp_path, monkeypatch):
    """`make run` writes instance/config.py once; every `flask --app app ...` command
    then finds the keys there, and an exported variable still wins."""
    import subprocess
    import sys
    from pathlib import Path

    from flask import Flask

    from community import _load_instance_config

    instance = tmp_path / "instance"
    scripts = Path(__file__).resolve().parents[2] / "scripts"
    done = subprocess.run(
        [sys.executable, "-c", _WRITE_CONFIG.format(instance=str(instance), scripts=str(scripts))],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "wrote" in done.stdout
    written = (instance / "config.py").read_text()
    assert "SECRET_KEY" in written and "COMMUNITY_DATA_KEY" in written
    assert oct((instance / "config.py").stat().st_mode & 0o777) == "0o600"

    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = Flask("probe", instance_path=str(instance))
    _load_instance_config(app)
    assert len(app.config["SECRET_KEY"]) == 64
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    other = Flask("probe", instance_path=str(instance))
    other.config["SECRET_KEY"] = "from-the-environment"
    _load_instance_config(other)
    assert other.config["SECRET_KEY"] == "from-the-environment"


_WRITE_CONFIG = """
import sys
sys.path.insert(0, {scripts!r})
import instance_config
from pathlib import Path
instance_config.INSTANCE = Path({instance!r})
sys.exit(instance_config.main())
"""


def test_trusted_hosts_refuse_a_forged_host_header(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["gongzhi.example.cn", "localhost"])
    assert client.get("/login").status_code == 200
    assert client.get("/login", base_url="http://evil.example").status_code == 400
