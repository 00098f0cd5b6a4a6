"""Mass-assignment sweep (issue 17 item 11): a form posted with extra fields changes
nothing the form alone would not.

Every form POST route is posted twice by a role that may use it, on the world of
tests/test_access.py (the role's user covers the world's community): once with
valid data (the cases of tests/sweeps/valid_posts.py), once with the same data
plus the fields an attacker would try (`status=verified`, `owner_id`,
`role=admin`, `verified_by`, `verified_by_id`, `points=9999`, `is_admin=1`,
`area_id` of another district; a field the form has keeps its valid value).
Each post runs in a SAVEPOINT rolled back afterwards, so both start from the same
state, and after each the watched columns of every table are read: the statuses,
roles, owners, deciders, points and areas (WATCHED), which also holds the users'
memberships and the points ledger. The two readings and the two answers must be
the same; the valid post must do what the case says (mostly a 303), so the
comparison is not between two refusals, and each role's posts must change some
watched column (the readings see what a post does).

Bounds: by default each route once, as the role of its case; SWEEP_DEEP=1 also
posts as every other role the access tables let use the route.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from flask import Blueprint, request
from sqlalchemy import inspect, select, text

from community.accounts.models import ROLES, Area, Membership, User
from community.core.timeutil import utcnow
from community.extensions import db
from community.places.models import Site
from tests.access_rules import LOGIN, expected
from tests.conftest import csrf_from, logged_in
from tests.dbutil import main_url
from tests.factories.accounts import make_area_tree, make_role_user
from tests.factories.duty import first_checkpoint, make_claim, make_duty
from tests.sweeps.valid_posts import CASES, NOT_FORMS, Data
from tests.test_access import _world

DEEP = os.environ.get("SWEEP_DEEP") == "1"
EXPECTED = expected()

# Columns whose value an extra field could set: read in every table that has them.
WATCHED = {
    "status",
    "role",
    "points",
    "points_awarded",
    "is_admin",
    "active",
    "area_id",
    "owner_id",
    "user_id",
    "organization_id",
    "landlord_id",
    "company_id",
    "association_id",
    "enterprise_id",
    "reporter_id",
    "assignee_id",
    "verified_by",
}


def watched(column: str) -> bool:
    return column in WATCHED or column.endswith("_by_id")


def extras(v: dict) -> dict[str, str]:
    return {
        "status": "verified",
        "owner_id": str(v["stranger_id"]),
        "role": "admin",
        "verified_by": str(v["stranger_id"]),
        "verified_by_id": str(v["stranger_id"]),
        "points": "9999",
        "is_admin": "1",
        "area_id": str(v["far_area_id"]),
    }


def post_routes(app) -> set[str]:
    return {r.endpoint for r in app.url_map.iter_rules() if "POST" in (r.methods or set())}


def test_every_form_post_route_has_a_case(app):
    missing = sorted(post_routes(app) - set(CASES) - set(NOT_FORMS))
    assert not missing, f"POST routes without a mass-assignment case: {missing}"


# --- the world ---------------------------------------------------------------------


def world(app, who: str) -> tuple[str, dict]:
    """test_access's world for `who`, with a stranger in another district and, for a
    volunteer, claims of their own (one to check in to, one on duty)."""
    username, values = _world(app, who)
    with app.app_context():
        session = db.session
        site = session.get(Site, values["site_id"])
        community = session.get(Area, site.area_id)
        _, _, far = make_area_tree(session, prefix="far")
        stranger = make_role_user(session, "volunteer", area=far)
        values.update(
            owner_id=site.landlord_id,
            community_id=community.id,
            street_id=community.parent_id,
            far_area_id=far.id,
            stranger_id=stranger.id,
            stranger_name=stranger.username,
        )
        user = session.scalar(select(User).where(User.username == username))
        if who == "volunteer":
            soon = make_duty(session, area=community, starts_in=timedelta(minutes=5))
            values["own_claim_id"] = make_claim(session, task=soon, volunteer=user).id
            later = make_duty(session, area=community, starts_in=timedelta(days=3))
            make_claim(session, task=later, volunteer=user)
            values["own_task_id"] = later.id
            now = make_duty(session, area=community, starts_in=-timedelta(minutes=30))
            claim = make_claim(
                session, task=now, volunteer=user, status="on_duty", checked_in_at=utcnow()
            )
            values["on_duty_claim_id"] = claim.id
            values["on_duty_checkpoint_id"] = first_checkpoint(session, now).id
        session.commit()
    return username, values


# --- reading -------------------------------------------------------------------------


_COLUMNS: dict[str, list[tuple[str, list[str], bool]]] = {}


def _watched_columns(connection) -> list[tuple[str, list[str], bool]]:
    """(table, watched columns, has an id column) per table with watched columns."""
    key = connection.engine.url.render_as_string()
    if key not in _COLUMNS:
        inspector = inspect(connection)
        found = []
        for name in sorted(inspector.get_table_names()):
            names = [c["name"] for c in inspector.get_columns(name)]
            cols = [c for c in names if watched(c)]
            if cols:
                found.append((name, cols, "id" in names))
        _COLUMNS[key] = found
    return _COLUMNS[key]


def reading(connection, known: dict[str, int]) -> dict:
    """{table: (rows that existed, keyed by id; rows made since, as a sorted list)} of
    the watched columns. New rows are compared without their ids (a sequence is not
    rolled back on PostgreSQL)."""
    quote = connection.dialect.identifier_preparer.quote
    found = {}
    for name, cols, has_id in _watched_columns(connection):
        select_list = ", ".join(quote(c) for c in ([*cols, "id"] if has_id else cols))
        rows = connection.exec_driver_sql(f"SELECT {select_list} FROM {quote(name)}").all()
        if has_id:
            old = {r[-1]: tuple(r[:-1]) for r in rows if r[-1] <= known.get(name, 0)}
            new = sorted((tuple(r[:-1]) for r in rows if r[-1] > known.get(name, 0)), key=repr)
        else:
            old, new = {}, sorted((tuple(r) for r in rows), key=repr)
        found[name] = (old, new)
    return found


def max_ids(connection) -> dict[str, int]:
    quote = connection.dialect.identifier_preparer.quote
    return {
        name: connection.exec_driver_sql(f"SELECT MAX(id) FROM {quote(name)}").scalar() or 0
        for name, _cols, has_id in _watched_columns(connection)
        if has_id
    }


def differences(first: dict, second: dict, cols: dict[str, list[str]]) -> list[str]:
    out = []
    for name, (old, new) in first.items():
        old2, new2 = second[name]
        for key in sorted(set(old) | set(old2)):
            if old.get(key) != old2.get(key):
                out.append(f"{name} #{key}: {old.get(key)} -> {old2.get(key)} ({cols[name]})")
        if new != new2:
            out.append(f"{name} new rows: {new} -> {new2} ({cols[name]})")
    return out


# --- posting -------------------------------------------------------------------------


login = logged_in


def url_of(app, endpoint: str, values: dict, overrides: dict) -> str:
    from flask import url_for

    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    args = {a: values[overrides.get(a, a)] for a in rule.arguments}
    with app.test_request_context():
        return url_for(endpoint, **args)


def starting_point(connection, client) -> tuple[str, dict, dict]:
    """(CSRF token, max ids, reading) before any post: the same before every post of
    a role, since each is rolled back (and the client's cookies restored)."""
    token = csrf_from(client.get("/").get_data(as_text=True))
    known = max_ids(connection)
    return token, known, reading(connection, known)


def post_twice(connection, client, url: str, data: Data, values: dict, start) -> tuple:
    """(answer and reading of the valid post, of the post with the extras), each in
    a SAVEPOINT rolled back afterwards."""
    token, known, base = start
    results = []
    for extra in (False, True):
        form = data(values)
        if extra:
            form = {**extras(values), **form}
        nested = connection.begin_nested()
        # The client's cookies too: a post may change its session (a new password,
        # a language) that the rollback does not take back.
        cookies = dict(client._cookies)
        try:
            resp = client.post(url, data={**form, "csrf_token": token})
            status = resp.status_code
            errors = ERRORS.findall(resp.get_data(as_text=True))
            resp.close()
            results.append((status, reading(connection, known), errors, base))
        finally:
            nested.rollback()
            client._cookies.clear()
            client._cookies.update(cookies)
    return results[0], results[1]


ERRORS = re.compile(r'<small class="error"[^>]*>([^<]*)<|role="alert"[^>]*>\s*([^<]*)<')


def check(app, connection, client, who, endpoint, values, start, *, primary) -> list[str]:
    _role, overrides, data, wanted, _why = CASES[endpoint]
    url = url_of(app, endpoint, values, overrides)
    (plain, first, errors, base), (extra, second, *_) = post_twice(
        connection, client, url, data, values, start
    )
    if first != base:
        MOVED.add((who, endpoint))
    label = f"{who} POST {url} ({endpoint})"
    failures = []
    if primary and plain != wanted:
        failures.append(f"{label}: the valid post answered {plain}, not {wanted}: {errors}")
    if plain != extra:
        failures.append(f"{label}: {plain} without the extra fields, {extra} with them")
    cols = {name: c for name, c, _ in _watched_columns(connection)}
    failures += [f"{label}: {d}" for d in differences(first, second, cols)]
    return failures


def _users(endpoint: str) -> list[str]:
    """Roles whose access row lets them use the route (deep mode)."""
    _method, table = EXPECTED.get(endpoint, ("POST", {}))
    return [r for r in ROLES if table.get(r, table.get("*")) not in (403, 404, LOGIN, None)]


def _todo() -> dict[str, list[tuple[str, bool]]]:
    """{role: [(endpoint, primary)]}: each case's role, and in deep mode every role
    that may use the route."""
    todo: dict[str, list[tuple[str, bool]]] = {}
    for endpoint, case in CASES.items():
        todo.setdefault(case[0], []).append((endpoint, True))
        if DEEP:
            for who in _users(endpoint):
                if who != case[0]:
                    todo.setdefault(who, []).append((endpoint, False))
    return todo


TODO = _todo()


@pytest.mark.parametrize("who", sorted(TODO))
def test_extra_fields_change_nothing(app, _transaction, who):
    username, values = world(app, who)
    client = login(app, username)
    failures = []
    routes = post_routes(app)
    start = starting_point(_transaction, client)
    for endpoint, primary in TODO[who]:
        if endpoint not in routes:
            continue  # a case of a route this checkout does not have (yet, or any more)
        failures += check(app, _transaction, client, who, endpoint, values, start, primary=primary)
    assert not failures, "\n".join(failures)
    # The readings see what a post does (or the comparison proves nothing).
    assert {e for w, e in MOVED if w == who}, f"no post of {who} changed a watched column"


# The (role, endpoint) whose valid post changed a watched column.
MOVED: set[tuple[str, str]] = set()


# --- the sweep can fail --------------------------------------------------------------


@pytest.fixture
def careless_app(app):
    """An app of its own with a route that copies every posted field onto the user's
    membership, as a careless `setattr` loop would."""
    from flask_login import current_user

    from community import create_app
    from community.config import TestConfig

    other = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": main_url()}))
    bp = Blueprint("careless", __name__)

    @bp.route("/_test/profile", methods=["POST"])
    def profile():
        membership = db.session.scalar(
            select(Membership).where(Membership.user_id == current_user.id)
        )
        for name, value in request.form.items():
            if name in ("role", "area_id"):
                setattr(membership, name, int(value) if name == "area_id" else value)
        db.session.execute(
            text('UPDATE "user" SET display_name = :n WHERE id = :id'),
            {"n": request.form.get("display_name", ""), "id": current_user.id},
        )
        db.session.commit()
        return "", 303

    other.register_blueprint(bp)
    return other


def test_the_sweep_sees_an_assigned_role(careless_app, _transaction):
    username, values = world(careless_app, "volunteer")
    client = login(careless_app, username)
    case = ("volunteer", {}, lambda v: {"display_name": "Me"}, 303, "")
    url = "/_test/profile"
    start = starting_point(_transaction, client)
    (plain, first, *_), (extra, second, *_) = post_twice(
        _transaction, client, url, case[2], values, start
    )
    assert plain == extra == 303
    cols = {name: c for name, c, _ in _watched_columns(_transaction)}
    found = differences(first, second, cols)
    assert len(found) == 1 and found[0].startswith("membership #"), found
    assert "'admin'" in found[0]
