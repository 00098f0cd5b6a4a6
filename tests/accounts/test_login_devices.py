"""Issue 17, item 9: a password spray from one address (a police station's NAT) must
not lock out every user behind it. A browser that logged in before as that user
holds a signed device cookie and passes the per-address limit, still held to its
own per-user limit; a forged, tampered, expired or other account's cookie gives no
pass (OWASP "Slow Down Online Guessing Attacks with Device Cookies")."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from community.accounts import auth
from community.accounts.models import LoginFailure
from community.extensions import db
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_role_user

STATION = "10.20.30.40"  # the address every officer of the station shares


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")


@pytest.fixture(params=["database", "redis"])
def storage(request, app, monkeypatch):
    """The failures counted in the database, then in Redis (skipped when none runs,
    except on CI)."""
    if request.param == "redis":
        import redis

        try:
            redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
        except redis.RedisError:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"Redis is not reachable at {REDIS_URL}; CI must test it")
            pytest.skip(f"Redis is not reachable at {REDIS_URL}")
        monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
        prefix = f"community-test-{uuid.uuid4().hex}:"
        monkeypatch.setitem(app.config, "LOGIN_THROTTLE_REDIS_PREFIX", prefix)
        monkeypatch.delitem(app.extensions, "community_login_redis", raising=False)
        yield request.param
        app.extensions.pop("community_login_redis", None)
    else:
        yield request.param


@pytest.fixture
def officers(app):
    with app.app_context():
        for name in ("officer", "colleague"):
            make_role_user(db.session, "police", username=name, password=PASSWORD)
        db.session.commit()


def _post(client, username, password, address=STATION, base_url="http://localhost"):
    environ = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=environ, base_url=base_url)
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
        environ_base=environ,
        base_url=base_url,
        headers={"Referer": f"{base_url}/login"},  # checked on HTTPS (CSRF)
    )


def _device_cookie(client):
    return client.get_cookie(auth.DEVICE_COOKIE, path="/login")


def _known_browser(app, username="officer", address=STATION):
    """A browser that logged in as `username` earlier (and logged out since)."""
    client = app.test_client()
    assert _post(client, username, PASSWORD, address).status_code == 303
    token = csrf_from(client.get("/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token}, environ_base={"REMOTE_ADDR": STATION})
    assert _device_cookie(client) is not None
    return client


def _spray(app):
    """One password against many usernames until the station's address is blocked."""
    attacker = app.test_client()
    for n in range(app.config["LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE"]):
        assert _post(attacker, f"guess{n}", "Summer2026!").status_code == 401
    assert _post(attacker, "officer", PASSWORD).status_code == 429


def _with_cookie(app, value):
    client = app.test_client()
    client.set_cookie(auth.DEVICE_COOKIE, value, path="/login")
    return client


def test_a_spray_from_the_station_does_not_lock_out_a_known_browser(app, officers, storage):
    known = _known_browser(app)
    _spray(app)
    # A new browser behind the same address waits ...
    assert _post(app.test_client(), "officer", PASSWORD).status_code == 429
    # ... the officer's own browser logs in, and gets a fresh device cookie.
    before = _device_cookie(known).value
    assert _post(known, "officer", PASSWORD).status_code == 303
    assert _device_cookie(known).value != before
    with app.app_context():
        stored = db.session.scalar(db.select(db.func.count()).select_from(LoginFailure))
    assert (stored == 0) is (storage == "redis")


def test_a_forged_tampered_expired_or_foreign_device_cookie_gives_no_pass(
    app, officers, monkeypatch
):
    genuine = _device_cookie(_known_browser(app)).value
    colleagues = _device_cookie(_known_browser(app, "colleague")).value
    _spray(app)
    payload, _, signature = genuine.rpartition(".")
    # The first character: the last one carries padding bits that may not count.
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with app.app_context():
        forged = URLSafeTimedSerializer("not-the-secret-key", salt="community.login-device")
        other_key = forged.dumps({"u": 1, "n": "x"})
        officer_id = db.session.scalar(
            db.select(auth.User.id).where(auth.User.username == "officer")
        )
        guessed_salt = URLSafeTimedSerializer(app.config["SECRET_KEY"]).dumps(
            {"u": officer_id, "n": "x"}
        )
    for value in (f"{payload}.{flipped}", other_key, guessed_salt, colleagues, "garbage"):
        assert _post(_with_cookie(app, value), "officer", PASSWORD).status_code == 429, value
    # The genuine one passes; once older than its lifetime it does not.
    assert _post(_with_cookie(app, genuine), "officer", PASSWORD).status_code == 303
    later = int(time.time()) + app.config["LOGIN_DEVICE_COOKIE_DAYS"] * 86400 + 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    assert _post(_with_cookie(app, genuine), "officer", PASSWORD).status_code == 429


def test_a_known_browser_is_held_to_its_own_per_user_limit(app, officers, storage):
    known = _known_browser(app)
    _spray(app)
    limit = app.config["LOGIN_FAILURES_PER_MINUTE"]
    for _ in range(limit):
        assert _post(known, "officer", "wrong-password!").status_code == 401
    # The device is locked out for the window, even with the right password ...
    resp = _post(known, "officer", PASSWORD)
    assert resp.status_code == 429 and 1 <= int(resp.headers["Retry-After"]) <= 60
    # ... and its cookie opens no other account either.
    assert _post(known, "colleague", PASSWORD).status_code == 429
    # The officer's other browser (it logged in from home once) is not held by this
    # one's failures.
    home = _known_browser(app, address="192.0.2.7")
    assert _post(home, "officer", PASSWORD).status_code == 303


def test_the_device_cookie_is_http_only_lax_long_lived_and_secure_on_https(app, officers):
    for base_url, secure in (("http://localhost", False), ("https://localhost", True)):
        resp = _post(app.test_client(), "officer", PASSWORD, base_url=base_url)
        assert resp.status_code == 303
        (header,) = [
            h for h in resp.headers.getlist("Set-Cookie") if h.startswith(f"{auth.DEVICE_COOKIE}=")
        ]
        attributes = {a.strip().split("=")[0].lower() for a in header.split(";")}
        assert "httponly" in attributes and ("secure" in attributes) is secure
        assert "SameSite=Lax" in header and "Path=/login" in header
        assert f"Max-Age={180 * 86400}" in header
