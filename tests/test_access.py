"""Every route, requested as anonymous and as each role, answers as this table says.

A route missing from the table fails the test: no route ships without an
access rule. 'login' means a redirect to the login page (302).
"""

from __future__ import annotations

import pytest

from community.accounts.models import ROLES
from community.extensions import db
from tests.conftest import PASSWORD, csrf_from
from tests.factories import make_org, make_role_user, make_user

ANON = "anonymous"
LOGIN = "login"
# endpoint -> (method, {who: status}); "*" is every logged-in role not listed.
EXPECTED: dict[str, tuple[str, dict[str, int | str]]] = {
    "static": ("GET", {ANON: 200, "*": 200}),
    "core.healthz": ("GET", {ANON: 200, "*": 200}),
    "accounts.login": ("GET", {ANON: 200, "*": 302}),
    "accounts.logout": ("POST", {ANON: LOGIN, "*": 303}),
    "accounts.home": ("GET", {ANON: LOGIN, "*": 200}),
    "accounts.password": ("GET", {ANON: LOGIN, "*": 200}),
    "accounts.set_locale": ("POST", {ANON: 422, "*": 422}),
    "admin.index": ("GET", {ANON: LOGIN, "admin": 302, "*": 403}),
    "admin.areas": ("GET", {ANON: LOGIN, "admin": 200, "*": 403}),
    "admin.orgs": ("GET", {ANON: LOGIN, "admin": 200, "*": 403}),
    "admin.org": ("GET", {ANON: LOGIN, "admin": 200, "*": 403}),
    "admin.add_member": ("POST", {ANON: LOGIN, "admin": 422, "*": 403}),
    "admin.remove_member": ("POST", {ANON: LOGIN, "admin": 303, "*": 403}),
    "admin.users": ("GET", {ANON: LOGIN, "admin": 200, "*": 403}),
    "admin.user": ("GET", {ANON: LOGIN, "admin": 200, "*": 403}),
}


@pytest.fixture
def world(app):
    """One object of each kind a URL can point at."""
    with app.app_context():
        org = make_org(db.session, kind="volunteer_team")
        member = make_role_user(db.session, "volunteer", org=org)
        target = make_user(db.session)
        db.session.commit()
        membership_id = db.session.execute(
            db.select(db.text("id"))
            .select_from(db.text("membership"))
            .where(db.text(f"user_id = {member.id}"))
        ).scalar()
        return {
            "org_id": org.id,
            "membership_id": membership_id,
            "user_id": target.id,
            "filename": "css/app.css",
        }


def _url(app, rule, world):
    values = {arg: world[arg] for arg in rule.arguments}
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _rules(app):
    return [r for r in app.url_map.iter_rules()]


def test_every_route_has_an_access_rule(app):
    missing = sorted({r.endpoint for r in _rules(app)} - set(EXPECTED))
    assert not missing, f"routes without a row in EXPECTED: {missing}"
    stale = sorted(set(EXPECTED) - {r.endpoint for r in _rules(app)})
    assert not stale, f"rows for routes that no longer exist: {stale}"


def _client_as(app, who):
    client = app.test_client()
    if who != ANON:
        with app.app_context():
            username = make_role_user(db.session, who, password=PASSWORD).username
            db.session.commit()
        token = csrf_from(client.get("/login").get_data(as_text=True))
        resp = client.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
        )
        assert resp.status_code == 303
    return client


@pytest.mark.parametrize("who", [ANON, *ROLES])
def test_route_access_matrix(app, world, who):
    failures = []
    client = _client_as(app, who)
    # Logout last: it ends the session the other requests use.
    rules = sorted(_rules(app), key=lambda r: (r.endpoint == "accounts.logout", r.endpoint))
    for rule in rules:
        method, table = EXPECTED[rule.endpoint]
        expected = table.get(who, table["*"] if who != ANON else None)
        token = csrf_from(client.get("/login" if who == ANON else "/").get_data(as_text=True))
        url = _url(app, rule, world)
        if method == "GET":
            resp = client.get(url)
        else:
            resp = client.post(url, data={"csrf_token": token})
        got: int | str = resp.status_code
        if got == 302 and "/login" in resp.headers.get("Location", "") and expected == LOGIN:
            got = LOGIN
        resp.close()
        if got != expected:
            failures.append(f"{method} {url} ({rule.endpoint}) as {who}: {got} != {expected}")
    assert not failures, "\n".join(failures)
