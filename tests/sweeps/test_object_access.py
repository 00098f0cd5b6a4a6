"""Object access sweep (issue 17 item 11): the objects of one district are out of
reach of the users of another.

The world has two districts. District A holds one object of every kind a route
with an id points at (the `world()` hooks of tests/access_rules/, with A's
landlord as the owner, plus a yellow-card proposal for the review queue); district
B has a user of every role (administrators cover every district: none in B). For
every rule of `app.url_map` with an `<int:...>` variable, B's user of a role asks
for A's object: a GET, and a POST with a valid CSRF token and form data that would
do something in scope (tests/sweeps/valid_posts.py: the data the mass-assignment
sweep proves valid in scope). The answer is 404 (DESIGN.md: an object outside the user's
scope answers 404); the few routes answering otherwise are listed in EXCEPTIONS
with the reason, and their answer must be the one a missing id gets (it tells
nothing). Every table is hashed before and after each role's batch: nothing
changes. A refusal writes nothing, not even an audit line (checked: the 404 and
403 answers record no event), so no table is left out of the hash.

The forms without an id in their URL that name objects in their fields (a room, an
area, registrations, review items) are posted by B's users with A's ids: refused
(a 4xx), nothing changes.

Ids that are missing, negative, huge or not numbers never get a 5xx.

Bounds: by default each route is asked once per method (every route with an id is
covered, GET and POST), by a role that may use it in its own district (the
candidates in turn); the odd ids by three roles in turn, two odd values per id.
SWEEP_DEEP=1 asks every route as every role, also as an htmx request, the odd ids
as every role too, and hashes after every POST.
"""

from __future__ import annotations

import hashlib
import os
import re
from contextlib import contextmanager

import pytest
from flask import Blueprint, abort, url_for
from sqlalchemy import inspect, select, text

from community.accounts.models import ORG_KINDS, ROLE_ORG_KINDS, ROLES, Area
from community.core.timeutil import today
from community.core.validators import MAX_ID
from community.extensions import db
from community.residents.compliance.models import YellowCardProposal
from tests.access_rules import LOGIN, expected, modules
from tests.conftest import PASSWORD, csrf_from, logged_in
from tests.dbutil import main_url
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.sweeps.valid_posts import CASES

DEEP = os.environ.get("SWEEP_DEEP") == "1"
EXPECTED = expected()

# Administrators cover every district: there is no "other district" for them.
ROLES_B = [r for r in ROLES if r != "admin"]

INT_ARG = re.compile(r"<int:(\w+)>")


# Routes answering some of B's users otherwise than 404: {endpoint: (status, roles
# (None: all), reason)}. Each such answer must also be what the same user gets for an
# id that does not exist (asserted): it tells nothing about A's object.
_ADMIN_ONLY = (403, None, "administrators only, checked before anything is looked up")
_IMPORTS = (
    403,
    ("coordinator", "association", "volunteer"),
    "roles that never import get 403 for any job, as on the upload page (access_rules)",
)
EXCEPTIONS: dict[str, tuple[int, tuple[str, ...] | None, str]] = {
    "admin.org": _ADMIN_ONLY,
    "admin.add_member": _ADMIN_ONLY,
    "admin.remove_member": _ADMIN_ONLY,
    "admin.user": _ADMIN_ONLY,
    "admin.add_role": _ADMIN_ONLY,
    "admin.remove_role": _ADMIN_ONLY,
    "residents.import_job": _IMPORTS,
    "residents.import_step": _IMPORTS,
    "residents.import_errors": _IMPORTS,
}


def allowed(endpoint: str, who: str) -> int:
    status, roles, _reason = EXCEPTIONS.get(endpoint, (404, None, ""))
    return status if roles is None or who in roles else 404


# The review queue's kinds, each with the world value naming one of A's items.
REVIEW_ITEMS = {
    "assessment": "assessment_id",
    "duty_report": "claim_id",
    "hazard": "record_id",
    "inspection": "inspection_id",
    "association": "application_id",
    "residence": "residence_id",
    "yellow_card": "proposal_id",
    "outreach_request": "request_id",
}


# --- the world ---------------------------------------------------------------------


def build_world(session) -> dict:
    """District A with an object of every kind (owned by A's landlord), district B with
    a user of every role; returns {"values", "users_b", "b"}."""
    district, street, community = make_area_tree(session, prefix="objA")
    orgs = {kind: make_org(session, kind=kind, area=community) for kind in ORG_KINDS}
    owner = _role_user(session, "landlord", orgs, community)
    ctx = {
        "district": district,
        "street": street,
        "community": community,
        "orgs": orgs,
        "user": owner,
        "who": "landlord",
    }
    values: dict = {}
    for module in modules():
        if hasattr(module, "world"):
            values.update(module.world(session, ctx) or {})
    proposal = YellowCardProposal(
        organization_id=orgs["property_company"].id,
        month=today().replace(day=1),
        area_id=community.id,
    )
    session.add(proposal)
    session.flush()
    values["proposal_id"] = proposal.id

    _, _, other = make_area_tree(session, prefix="objB")
    orgs_b = {kind: make_org(session, kind=kind, area=other) for kind in ORG_KINDS}
    users_b = {role: _role_user(session, role, orgs_b, other) for role in ROLES_B}
    # What the form data of tests/sweeps/valid_posts.py names besides the URL values:
    # A's own (what would act on A's objects), and a stranger from B.
    values.update(
        owner_id=owner.id,
        community_id=community.id,
        street_id=street.id,
        far_area_id=other.id,
        stranger_id=users_b["volunteer"].id,
        stranger_name=users_b["volunteer"].username,
    )
    return {"values": values, "users_b": {r: u.username for r, u in users_b.items()}}


def _role_user(session, role, orgs, area):
    kind = ROLE_ORG_KINDS[role][0]
    return make_role_user(
        session,
        role,
        password=PASSWORD,
        org=orgs.get(kind) if kind else None,
        area=None if kind else area,
    )


# --- hashing -------------------------------------------------------------------------


def table_hashes(connection) -> dict[str, str]:
    """{table: sha256 of its rows ordered by primary key} for every table of the
    database (read from the database itself: a model without its migration yet, or
    a table no model maps, such as the site search index, is hashed as it is).
    `data_version` is left out: its token changes with every write by design
    (core/writes.py), so it would only repeat what the other tables say."""
    found = {}
    for name, order in _tables(connection):
        if name == "data_version":
            continue
        digest = hashlib.sha256()
        quote = connection.dialect.identifier_preparer.quote
        columns = ", ".join(quote(c) for c in order) or "1"
        rows = connection.exec_driver_sql(f"SELECT * FROM {quote(name)} ORDER BY {columns}")
        for row in rows:
            digest.update(repr(tuple(row)).encode())
        found[name] = digest.hexdigest()
    return found


_TABLES: dict[str, list[tuple[str, list[str]]]] = {}


def _tables(connection) -> list[tuple[str, list[str]]]:
    """(name, primary key columns, or all columns without one) per table; once per
    database (the schema does not change during the suite)."""
    key = connection.engine.url.render_as_string()
    if key not in _TABLES:
        inspector = inspect(connection)
        found = []
        for name in sorted(inspector.get_table_names()):
            pk = inspector.get_pk_constraint(name).get("constrained_columns") or []
            found.append((name, pk or [c["name"] for c in inspector.get_columns(name)]))
        _TABLES[key] = found
    return _TABLES[key]


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))


# --- requests ------------------------------------------------------------------------


login = logged_in


def csrf(client) -> str:
    return csrf_from(client.get("/").get_data(as_text=True))


def id_rules(app):
    """(rule, method) for every rule with an <int:...> variable, per method it takes."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if not INT_ARG.search(rule.rule):
            continue
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            found.append((rule, method))
    return found


def fill(rule, values: dict, ids: dict | None = None) -> str:
    """The rule's path with the world's values, int variables from `ids` if given."""
    path = rule.rule
    for name in rule.arguments:
        value = (ids or {}).get(name, values.get(name))
        assert value is not None, f"{rule.endpoint}: no world value for {name}"
        path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
    return path


def cases(app, values: dict) -> list[tuple[str, str, str, str]]:
    """(endpoint, method, url, url with missing ids) for every id route; the review
    decision once per review kind."""
    found = []
    for rule, method in id_rules(app):
        missing = fill(rule, values, {name: MAX_ID for name in INT_ARG.findall(rule.rule)})
        if rule.endpoint == "reviews.decide":
            for kind, key in REVIEW_ITEMS.items():
                ids = {"kind_name": kind, "record_id": values[key]}
                none = fill(rule, values, {**ids, "record_id": MAX_ID})
                found.append((rule.endpoint, method, fill(rule, values, ids), none))
            continue
        found.append((rule.endpoint, method, fill(rule, values), missing))
    return found


def _asker(endpoint: str, k: int) -> str:
    """A role of B for which the access table of `endpoint` answers in scope (not
    403/404/login); any role of B when none does."""
    _method, table = EXPECTED[endpoint]
    users = [r for r in ROLES_B if table.get(r, table.get("*")) not in (403, 404, LOGIN)]
    candidates = users or ROLES_B
    return candidates[k % len(candidates)]


def ask(client, method: str, url: str, data: dict, token: str, htmx: bool = False) -> int:
    headers = {"HX-Request": "true"} if htmx else None
    if method == "GET":
        resp = client.get(url, headers=headers)
    else:
        resp = client.post(url, data={**data, "csrf_token": token}, headers=headers)
    status = resp.status_code
    resp.close()
    return status


def sweep(app, connection, clients, todo, forms, *, every_post=False) -> list[str]:
    """Ask every (who, endpoint, method, url, missing) of `todo` as `clients[who]`;
    returns the failures: an answer other than 404 not listed in EXCEPTIONS (or not
    the missing id's answer), and the tables a batch of one role's requests changed."""
    failures = []
    by_role: dict[str, list] = {}
    for item in todo:
        by_role.setdefault(item[0], []).append(item)
    for who, items in by_role.items():
        client = clients[who]
        token = csrf(client)
        before = table_hashes(connection)
        # GETs first: a POST that wrongly succeeded must not hide a GET's answer.
        for _, endpoint, method, url, missing in sorted(items, key=lambda i: i[2] != "GET"):
            data = forms.get(endpoint, {}) if method == "POST" else {}
            got = ask(client, method, url, data, token)
            label = f"{who} {method} {url} ({endpoint}) -> {got}"
            if every_post and got == 404:
                # Deep: the htmx request too (its fragment must not come from elsewhere).
                got = ask(client, method, url, data, token, htmx=True)
                label = f"{who} {method} {url} ({endpoint}, htmx) -> {got}"
            if got != 404:
                if got != allowed(endpoint, who):
                    failures.append(f"{label}, not 404")
                elif (bare := ask(client, method, missing, data, token)) != got:
                    failures.append(f"{label}, but {bare} for a missing id: tells it exists")
            if every_post and method == "POST":
                after = table_hashes(connection)
                if moved := changed(before, after):
                    failures.append(f"{label} changed {', '.join(moved)}")
                before = after
        if moved := changed(before, table_hashes(connection)):
            failures.append(f"the requests of {who} changed {', '.join(moved)}")
    return failures


@contextmanager
def _world(app):
    with app.app_context():
        world = build_world(db.session)
        db.session.commit()
    yield world


def test_every_id_route_answers_404_to_another_district(app, _transaction):
    with _world(app) as world:
        values, users = world["values"], world["users_b"]
        all_cases = cases(app, values)
        posts = {e for e, m, *_ in all_cases if m == "POST"}
        unknown = sorted(posts - set(CASES))
        assert not unknown, f"POST routes with no case in tests/sweeps/valid_posts.py: {unknown}"
        forms = {endpoint: CASES[endpoint][2](values) for endpoint in posts}
        clients = {who: login(app, name) for who, name in users.items()}
        if DEEP:
            todo = [(who, *case) for who in ROLES_B for case in all_cases]
        else:
            # Each case once, by a role that may use the route in its own district
            # (tests/access_rules), so the scope check is what must refuse; the
            # candidates in turn, in the order of url_map (the same every run).
            todo = [(_asker(case[0], k), *case) for k, case in enumerate(all_cases)]
        failures = sweep(app, _transaction, clients, todo, forms, every_post=DEEP)
        assert not failures, "\n".join(failures)


# Form POST routes without an id whose fields name objects (a room, an area, a
# registration, a review item, a card's target): posted by B's user with A's ids.
# The others name none (accounts.*, notifications.read_all), serve everybody by the
# site's QR token (residents.declare), belong to administrators, who cover every
# district (admin.*), or read a file (residents.upload: its rows' site ids are the
# import's own check, tests/residents).
BODY_IDS = (
    "places.new",
    "duty.new",
    "residents.new",
    "residents.verify_many",
    "residents.issue_card",
    "reviews.bulk",
    "outreach.new",
    "outreach.new_request",
    "outreach.corners",
)


def test_ids_in_forms_reach_nothing_of_another_district(app, _transaction):
    """B's user posts a form naming A's objects: refused (a 4xx) and nothing changes."""
    with _world(app) as world:
        values, users = world["values"], world["users_b"]
        todo = []
        for k, endpoint in enumerate(BODY_IDS):
            role = CASES[endpoint][0]
            _method, table = EXPECTED[endpoint]
            everyone = [r for r in ROLES_B if table.get(r, table.get("*")) not in (403, LOGIN)]
            for who in (
                everyone if DEEP else [role if role in ROLES_B else everyone[k % len(everyone)]]
            ):
                todo.append((who, endpoint))
        clients = {who: login(app, users[who]) for who in {w for w, _e in todo}}
        failures = []
        tokens = {who: csrf(client) for who, client in clients.items()}
        # Hashed once around the batch (around every post with SWEEP_DEEP=1).
        before = table_hashes(_transaction)
        for who, endpoint in todo:
            with app.test_request_context():
                url = url_for(endpoint)
            data = CASES[endpoint][2](values)
            got = ask(clients[who], "POST", url, data, tokens[who])
            if not 400 <= got < 500:
                failures.append(f"{who} POST {url} ({endpoint}) naming A's objects -> {got}")
            if DEEP and (moved := changed(before, after := table_hashes(_transaction))):
                failures.append(f"{who} POST {url} ({endpoint}) changed {', '.join(moved)}")
                before = after
        if moved := changed(before, table_hashes(_transaction)):
            failures.append(f"the posts naming A's objects changed {', '.join(moved)}")
        assert not failures, "\n".join(failures)


# Reaching the view: 0 and the largest id the converter takes. Stopped by the router:
# the others (the converter takes neither a sign nor more than MAX_ID).
VIEW_ODD = ["0", str(MAX_ID)]
ROUTER_ODD = ["-1", str(2**63), str(10**30), "abc", "1e3", "%00"]


def odd_urls(app, values: dict, *, deep: bool = DEEP) -> list[tuple[str, str, str]]:
    """(method, url, what) with one int variable replaced by an odd value, and with
    the id left out (`/x/` for a trailing id, `//` inside). By default each variable
    gets one value reaching the view and one stopped by the router, in turn (every
    odd value is used across the routes); deep, every value."""
    found = []
    k = 0
    for rule, method in id_rules(app):
        for name in INT_ARG.findall(rule.rule):
            if deep:
                odds = VIEW_ODD + ROUTER_ODD
            else:
                odds = [VIEW_ODD[k % len(VIEW_ODD)], ROUTER_ODD[k % len(ROUTER_ODD)]]
            k += 1
            for odd in odds:
                found.append((method, fill(rule, values, {name: odd}), odd))
            found.append((method, fill(rule, values, {name: ""}), "missing"))
    return found


def test_odd_ids_never_get_a_server_error(app, _transaction):
    with _world(app) as world:
        values = world["values"]
        roles = ROLES_B if DEEP else ["police", "landlord", "volunteer"]
        clients = {who: login(app, world["users_b"][who]) for who in roles}
        tokens = {who: csrf(c) for who, c in clients.items()}
        failures = []
        for k, (method, url, what) in enumerate(odd_urls(app, values)):
            for who in roles if DEEP else [roles[k % len(roles)]]:
                got = ask(clients[who], method, url, {}, tokens[who])
                # A missing trailing id may name the list page (/duties/ is the index)
                # and `//` is merged by a redirect: neither is a server error.
                bad = got >= 500 if what == "missing" else not 400 <= got < 500
                if bad:
                    failures.append(f"{who} {method} {url} ({what}) -> {got}")
        assert not failures, "\n".join(failures)


def test_the_odd_ids_are_all_used_by_default(app):
    """The default's rotation still sends every odd value somewhere."""
    values = {name: "x" for rule in app.url_map.iter_rules() for name in rule.arguments}
    used = {what for _m, _u, what in odd_urls(app, values, deep=False)}
    assert used == {*VIEW_ODD, *ROUTER_ODD, "missing"}


# --- the sweep can fail --------------------------------------------------------------


@pytest.fixture
def leaky_app(app):
    """An app of its own with two careless routes: a page showing any area by id and a
    POST renaming it, both without a scope check."""
    from community import create_app
    from community.config import TestConfig

    other = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": main_url()}))
    bp = Blueprint("leaky", __name__)

    @bp.route("/_test/areas/<int:area_id>", methods=["GET", "POST"])
    def area(area_id: int):
        from flask import request

        found = db.session.get(Area, area_id) or abort(404)
        if request.method == "POST":
            db.session.execute(
                text("UPDATE area SET name = name || '!' WHERE id = :id"), {"id": found.id}
            )
            db.session.commit()
        return found.name

    other.register_blueprint(bp)
    return other


def test_the_sweep_sees_a_leak_and_a_write(leaky_app, _transaction):
    """An unscoped page (200, not 404) and the write of its POST are both reported;
    a listed exception answering unlike a missing id is reported too."""
    with _world(leaky_app) as world:
        with leaky_app.app_context():
            area_id = db.session.scalar(select(Area.id).where(Area.name == "objA-district"))
        client = login(leaky_app, world["users_b"]["police"])
        url, missing = f"/_test/areas/{area_id}", f"/_test/areas/{MAX_ID}"
        todo = [("police", "leaky.area", m, url, missing) for m in ("GET", "POST")]
        failures = sweep(leaky_app, _transaction, {"police": client}, todo, {})
        assert len(failures) == 3, failures
        assert "GET" in failures[0] and "not 404" in failures[0]
        assert "POST" in failures[1] and "not 404" in failures[1]
        assert failures[2] == "the requests of police changed area"
        EXCEPTIONS["leaky.area"] = (200, None, "a test of the sweep itself")
        try:
            failures = sweep(leaky_app, _transaction, {"police": client}, todo[:1], {})
        finally:
            del EXCEPTIONS["leaky.area"]
        assert len(failures) == 1 and "404 for a missing id" in failures[0], failures
