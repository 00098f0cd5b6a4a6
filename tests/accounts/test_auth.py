"""Login, logout, sessions that end on the server side, passwords and rate limits."""

from __future__ import annotations

import time

import pytest

from community.accounts import auth
from community.extensions import db
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import get_user, make_role_user, make_user


@pytest.fixture
def user(app):
    with app.app_context():
        u = make_role_user(db.session, "police", username="officer", password=PASSWORD)
        db.session.commit()
        return u


def _login_post(client, username, password, **extra):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token, **extra}
    )


def test_anonymous_home_redirects_to_login(client):
    resp = client.get("/")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


def test_login_lands_on_home_with_name(client, user):
    resp = _login_post(client, "officer", PASSWORD)
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith("/")
    page = client.get("/").get_data(as_text=True)
    assert "officer" in page


def test_wrong_password_and_unknown_user_get_the_same_message(client, user):
    wrong = _login_post(client, "officer", "not-the-password")
    unknown = _login_post(client, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password." in wrong.get_data(as_text=True) or "用户名或密码" in (
        wrong.get_data(as_text=True)
    )
    # The answers differ only in CSRF tokens and the echoed username.
    strip = lambda r, name: r.get_data(as_text=True).replace(name, "")  # noqa: E731
    assert len(strip(wrong, "officer")) == len(strip(unknown, "nobody-here"))


def test_login_without_csrf_token_is_400(client, user):
    resp = client.post("/login", data={"username": "officer", "password": PASSWORD})
    assert resp.status_code == 400


def test_empty_login_form_is_422(client):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"username": "", "password": "", "csrf_token": token})
    assert resp.status_code == 422


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/admin/users", "/admin/users"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_login_next_only_accepts_local_paths(client, user, target, expected):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "officer", "password": PASSWORD, "csrf_token": token},
    )
    assert resp.status_code == 303
    assert resp.headers["Location"] == expected


def test_copied_session_cookie_stops_working_after_logout(app, client, user):
    _login_post(client, "officer", PASSWORD)
    assert client.get("/").status_code == 200
    stolen = client.get_cookie("session").value
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303

    thief = app.test_client()
    thief.set_cookie("session", stolen)
    resp = thief.get("/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_password_change_ends_other_sessions_but_keeps_this_one(app, client, user):
    _login_post(client, "officer", PASSWORD)
    other = app.test_client()
    _login_post(other, "officer", PASSWORD)
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    resp = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a-brand-new-passphrase",
            "confirm": "a-brand-new-passphrase",
            "csrf_token": token,
        },
    )
    assert resp.status_code == 303
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    assert _login_post(app.test_client(), "officer", "a-brand-new-passphrase").status_code == 303


def test_password_change_refuses_short_or_wrong_current(client, user):
    _login_post(client, "officer", PASSWORD)
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    short = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "short",
            "confirm": "short",
            "csrf_token": token,
        },
    )
    assert short.status_code == 422
    wrong = client.post(
        "/account/password",
        data={
            "current_password": "not-my-password",
            "new_password": "long-enough-pass",
            "confirm": "long-enough-pass",
            "csrf_token": token,
        },
    )
    assert wrong.status_code == 422
    assert client.get("/").status_code == 200  # still logged in with the old password


def test_disabled_user_is_logged_out_everywhere(app, client, user, login_as):
    _login_post(client, "officer", PASSWORD)
    assert client.get("/").status_code == 200
    with app.app_context():
        u = get_user(db.session, "officer")
        from community.accounts.services import set_active

        admin = make_user(db.session)
        set_active(db.session, admin, u, False)
        db.session.commit()
    assert client.get("/").status_code == 302
    assert _login_post(app.test_client(), "officer", PASSWORD).status_code == 401


def test_idle_timeout_ends_the_session(app, client, user, monkeypatch):
    _login_post(client, "officer", PASSWORD)
    now = time.time()
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    monkeypatch.setattr(auth.time, "time", lambda: now + idle + 5)
    assert client.get("/").status_code == 302


def test_activity_keeps_the_session_until_the_absolute_limit(app, client, user, monkeypatch):
    _login_post(client, "officer", PASSWORD)
    start = time.time()
    step = app.config["SESSION_IDLE_MINUTES"] * 60 - 60
    clock = {"now": start}
    monkeypatch.setattr(auth.time, "time", lambda: clock["now"])
    while clock["now"] - start < app.config["SESSION_MAX_HOURS"] * 3600 - step:
        clock["now"] += step
        assert client.get("/").status_code == 200
    clock["now"] = start + app.config["SESSION_MAX_HOURS"] * 3600 + 1
    assert client.get("/").status_code == 302


def test_remember_me_cookie_survives_session_expiry_but_not_logout(app, client, user, monkeypatch):
    resp = _login_post(client, "officer", PASSWORD, remember="y")
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("remember_token"))
    assert "HttpOnly" in cookie
    assert "Max-Age=1209600" in cookie or "Expires" in cookie
    remember = client.get_cookie("remember_token").value
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    now = time.time()
    monkeypatch.setattr(auth.time, "time", lambda: now + idle + 5)
    # The session timed out, the remember cookie logs the user back in.
    assert client.get("/").status_code == 200
    monkeypatch.setattr(auth.time, "time", lambda: now + idle + 10)
    token = csrf_from(client.get("/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    thief = app.test_client()
    thief.set_cookie("remember_token", remember)
    assert thief.get("/").status_code == 302


def test_session_cookie_flags(client, user):
    resp = _login_post(client, "officer", PASSWORD)
    cookie = next(c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_cookies_are_secure_over_https(app, user):
    client = app.test_client()
    page = client.get("/login", base_url="https://localhost")
    token = csrf_from(page.get_data(as_text=True))
    resp = client.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
        data={"username": "officer", "password": PASSWORD, "csrf_token": token, "remember": "y"},
    )
    assert resp.status_code == 303
    cookies = resp.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c for c in cookies)
    assert "max-age" in resp.headers["Strict-Transport-Security"]


def test_eleventh_failed_login_in_a_minute_is_429(client, user):
    for _ in range(10):
        assert _login_post(client, "officer", "wrong-password!").status_code == 401
    assert _login_post(client, "officer", "wrong-password!").status_code == 429
    # Even the right password is refused while the limit holds.
    assert _login_post(client, "officer", PASSWORD).status_code == 429


def test_successful_logins_do_not_count_towards_the_limit(app, user):
    for _ in range(12):
        c = app.test_client()
        assert _login_post(c, "officer", PASSWORD).status_code == 303


def test_language_switch_changes_the_page_language(app, user):
    client = app.test_client()
    _login_post(client, "officer", PASSWORD)
    assert "退出" in client.get("/").get_data(as_text=True)
    token = csrf_from(client.get("/").get_data(as_text=True))
    resp = client.post("/locale", data={"locale": "en", "csrf_token": token, "next": "/"})
    assert resp.status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Log out" in page
    client.post("/locale", data={"locale": "zh_CN", "csrf_token": token, "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "退出" in page


def test_default_language_is_chinese(app):
    page = app.test_client().get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "登录" in page


def test_passwords_are_hashed_with_scrypt(session):
    user = make_user(session, password="a-long-password")
    assert user.password_hash.startswith("scrypt:")
    assert "a-long-password" not in user.password_hash


def _session_value(client, key):
    with client.session_transaction() as sess:
        return sess.get(key)


def test_login_issues_a_new_csrf_token_and_keeps_the_language(client, user):
    client.get("/login")
    before = _session_value(client, "csrf_token")
    assert before and _session_value(client, "locale") == "en"
    assert _login_post(client, "officer", PASSWORD).status_code == 303
    client.get("/")
    after = _session_value(client, "csrf_token")
    assert after and after != before
    assert _session_value(client, "locale") == "en"
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_a_form_token_from_before_login_is_refused_after_login(client, user):
    planted = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post(
        "/login", data={"username": "officer", "password": PASSWORD, "csrf_token": planted}
    )
    assert resp.status_code == 303
    stale = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "another-long-passphrase",
            "confirm": "another-long-passphrase",
            "csrf_token": planted,
        },
    )
    assert stale.status_code == 400
    assert client.get("/").status_code == 200  # still logged in, nothing changed
    assert _login_post(client.application.test_client(), "officer", PASSWORD).status_code == 303


def test_logout_clears_the_session_but_keeps_the_language(client, user):
    _login_post(client, "officer", PASSWORD)
    token = csrf_from(client.get("/").get_data(as_text=True))
    with client.session_transaction() as sess:
        sess["leftover"] = "from the logged-in session"
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert _session_value(client, "leftover") is None
    assert _session_value(client, "_user_id") is None
    assert _session_value(client, "locale") == "en"
    client.get("/login")
    assert _session_value(client, "csrf_token") != token
