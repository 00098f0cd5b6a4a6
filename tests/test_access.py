"""Every route, requested as anonymous and as each role, answers as the tables in
tests/access_rules/ say. A route missing from the tables fails the test: no
route ships without an access rule.

Each role's user covers the world's community (or belongs to its organizations),
so the table shows both in-scope answers and forbidden actions.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from flask import url_for
from sqlalchemy import event, text, update

from community.accounts.models import ORG_KINDS, ROLE_ORG_KINDS, ROLES, Membership
from community.extensions import db
from tests.access_rules import ANON, LOGIN, TEAM_LEAD, expected, modules
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area_tree, make_org, make_role_user

EXPECTED = expected()


def _world(app, who):
    with app.app_context():
        session = db.session
        district, street, community = make_area_tree(session)
        orgs = {kind: make_org(session, kind=kind, area=community) for kind in ORG_KINDS}
        user = None
        if who == TEAM_LEAD:
            user = make_role_user(
                session, "volunteer", password=PASSWORD, org=orgs["volunteer_team"]
            )
            session.execute(
                update(Membership).where(Membership.user_id == user.id).values(lead=True)
            )
        elif who != ANON:
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


@pytest.mark.parametrize("who", [ANON, *ROLES, TEAM_LEAD])
def test_route_access_matrix(app, who):
    username, values = _world(app, who)
    client = _client_as(app, username)
    failures = []
    # Every GET first, on the world as made (a POST marking a notice read must not hide
    # that opening it would too); logout last: it ends the session the others use.
    rules = sorted(
        app.url_map.iter_rules(),
        key=lambda r: (
            r.endpoint == "accounts.logout",
            EXPECTED.get(r.endpoint, ("GET",))[0] != "GET",
            r.endpoint,
        ),
    )
    # A GET changes nothing: the statements each GET issues are watched, and one
    # that writes fails the test (the run requests every page as every role).
    with _writes_during(app) as (writes, in_get):
        _request_every_route(app, who, client, rules, values, failures, in_get)
    assert not failures, "\n".join(failures)
    assert not writes, f"GET requests that write, as {who}:\n" + "\n".join(writes)


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE")
AUDIT_LINE = "INSERT INTO AUDIT_EVENT "


@contextmanager
def _writes_during(app):
    """Yield (writes, label): while `label` holds the URL of a GET, every writing
    statement is added to `writes` as "URL: statement"."""
    writes: list[str] = []
    label: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        head = statement.lstrip().upper()
        # Reading personal data leaves a line in the append-only audit log (an export
        # of a ledger, DESIGN.md "Personal data"): a record of the read, like the
        # access log, not a change of anything the application shows or decides on.
        if head.startswith(AUDIT_LINE):
            return
        if label and head.startswith(WRITES):
            writes.append(f"{label[-1]}: {statement.splitlines()[0][:120]}")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield writes, label
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_get_watch_sees_a_write(app):
    """The watch above catches a write (no vacuous pass) and ignores reads and POSTs."""
    with app.app_context(), _writes_during(app) as (writes, label):
        db.session.execute(text("SELECT 1"))
        label.append("/some/page")
        db.session.execute(text("SELECT 1"))
        db.session.execute(text("UPDATE area SET name = name WHERE id = -1"))
        label.clear()
        db.session.execute(text("UPDATE area SET name = name WHERE id = -1"))
        db.session.rollback()
    assert len(writes) == 1 and writes[0].startswith("/some/page: UPDATE")


def _request_every_route(app, who, client, rules, values, failures, in_get):
    for rule in rules:
        method, table = EXPECTED[rule.endpoint]
        default = table.get("*") if who != ANON else None
        if who == TEAM_LEAD:
            default = table.get("volunteer", default)
        wanted = table.get(who, default)
        in_get.append("/login" if who == ANON else "/")
        token = csrf_from(client.get(in_get[-1]).get_data(as_text=True))
        in_get.clear()
        url = _url(app, rule, values)
        if method == "GET":
            in_get.append(url)
            resp = client.get(url)
            in_get.clear()
        else:
            resp = client.post(url, data={"csrf_token": token})
        got: int | str = resp.status_code
        if got == 302 and "/login" in resp.headers.get("Location", "") and wanted == LOGIN:
            got = LOGIN
        resp.close()
        if got != wanted:
            failures.append(f"{method} {url} ({rule.endpoint}) as {who}: {got} != {wanted}")
