"""Every route, requested as anonymous and as each role, answers as the tables in
tests/access_rules/ say. A route missing from the tables fails the test: no
route ships without an access rule.

Each role's user covers the world's community (or belongs to its organizations),
so the table shows both in-scope answers and forbidden actions.
"""

from __future__ import annotations

import pytest
from flask import url_for

from community.accounts.models import ORG_KINDS, ROLE_ORG_KINDS, ROLES
from community.extensions import db
from tests.access_rules import ANON, LOGIN, expected, modules
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area_tree, make_org, make_role_user

EXPECTED = expected()


def _world(app, who):
    with app.app_context():
        session = db.session
        district, street, community = make_area_tree(session)
        orgs = {kind: make_org(session, kind=kind, area=community) for kind in ORG_KINDS}
        user = None
        if who != ANON:
            kind = ROLE_ORG_KINDS[who][0]
            user = make_role_user(
                session,
                who,
                password=PASSWORD,
                org=orgs.get(kind) if kind else None,
                area=None if kind else (None if who == "admin" else community),
            )
        ctx = {
            "district": district,
            "street": street,
            "community": community,
            "orgs": orgs,
            "user": user,
            "who": who,
        }
        values = {}
        for module in modules():
            if hasattr(module, "world"):
                for key, value in (module.world(session, ctx) or {}).items():
                    # One URL variable name, one meaning: a second module reusing
                    # a name would silently change the first module's URLs.
                    assert key not in values, f"{module.__name__}: {key} already set"
                    values[key] = value
        session.commit()
        return (user.username if user else None), values


def _client_as(app, username):
    client = app.test_client()
    if username:
        token = csrf_from(client.get("/login").get_data(as_text=True))
        resp = client.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
        )
        assert resp.status_code == 303
    return client


def _url(app, rule, values):
    missing = [arg for arg in rule.arguments if arg not in values]
    assert not missing, f"{rule.endpoint}: no world value for {missing}"
    with app.test_request_context():
        return url_for(rule.endpoint, **{arg: values[arg] for arg in rule.arguments})


def test_every_route_has_an_access_rule(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(EXPECTED))
    assert not missing, f"routes without a row in tests/access_rules: {missing}"
    stale = sorted(set(EXPECTED) - endpoints)
    assert not stale, f"rows for routes that no longer exist: {stale}"


@pytest.mark.parametrize("who", [ANON, *ROLES])
def test_route_access_matrix(app, who):
    username, values = _world(app, who)
    client = _client_as(app, username)
    failures = []
    # Logout last: it ends the session the other requests use.
    rules = sorted(
        app.url_map.iter_rules(), key=lambda r: (r.endpoint == "accounts.logout", r.endpoint)
    )
    for rule in rules:
        method, table = EXPECTED[rule.endpoint]
        wanted = table.get(who, table.get("*") if who != ANON else None)
        token = csrf_from(client.get("/login" if who == ANON else "/").get_data(as_text=True))
        url = _url(app, rule, values)
        if method == "GET":
            resp = client.get(url)
        else:
            resp = client.post(url, data={"csrf_token": token})
        got: int | str = resp.status_code
        if got == 302 and "/login" in resp.headers.get("Location", "") and wanted == LOGIN:
            got = LOGIN
        resp.close()
        if got != wanted:
            failures.append(f"{method} {url} ({rule.endpoint}) as {who}: {got} != {wanted}")
    assert not failures, "\n".join(failures)
