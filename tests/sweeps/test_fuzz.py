"""Form fuzzing sweep (issue 17 item 12): every form of the app, posted with Hypothesis'
hostile values -- CJK, emoji, NUL and other control characters, 10,000-character
strings, bidi marks, markup and template payloads, SQL-ish text, extreme and
malformed dates and numbers, uploads of junk, missing, repeated and unknown
fields, a wrong or missing CSRF token, with and without HX-Request -- answers
only with one of formspec.ALLOWED (200, 303, 400, 403, 404, 409, 413, 422, 429;
and 401 for a wrong login, by design: ALSO).

Which forms: every POST route of `app.url_map` (a route missing from the plan
fails `test_every_post_route_is_fuzzed`), and every GET form (the filters) the
pages show. Who posts: a role the access tables (tests/access_rules) let through,
in that role's access world (tests/test_access.py `_world`), so the URL's objects
exist and the values the pages offer (choices, hidden tokens) are real: most fields
keep them and a few turn hostile, so the hostile value reaches the service, not
only the validator. Each example runs in a SAVEPOINT rolled back after it (and with
the session cookie and the rate limits as they were), so examples are independent.

Bounds: formspec.PROFILE -- derandomized, 8 examples a form by default, plus the
edges every form meets (formspec.edges: each kind of field at its lowest, its
highest, 10,000 characters long);
SWEEP_DEEP=1 draws 100 a form at random and fuzzes every permitted role
(SWEEP_EXAMPLES overrides either count).
"""

from __future__ import annotations

import time
import traceback
from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask, request
from hypothesis import example, given

from community.core.timeutil import utcnow
from community.duty.models import DutyTask
from community.extensions import db, limiter
from tests.access_rules import ANON, expected
from tests.conftest import csrf_from
from tests.factories.accounts import get_user
from tests.factories.duty import first_checkpoint, make_claim, make_duty
from tests.sweeps.formspec import (
    ALLOWED,
    DEEP,
    PROFILE,
    Form,
    Submission,
    edges,
    forms_in,
    route_of,
    submissions,
    wtforms_fields,
)
from tests.test_access import _client_as, _url, _world

EXPECTED = expected()
# A role "may post" a route when its access row answers the bare POST (or the page)
# with one of these: the request reaches the form.
THROUGH = {200, 303, 409, 422}
# A wrong username or password is 401 (with the login form): the one status outside
# ALLOWED a form answers by design.
ALSO = {"accounts.login": frozenset({401})}
# The role tried first: the narrowest one that may, so scopes are exercised.
PREFERENCE = [
    "landlord",
    "property_manager",
    "enterprise",
    "volunteer",
    "association",
    "mediator",
    "coordinator",
    "police",
    "admin",
    ANON,
]


def _status(row: dict, who: str):
    return row.get(who, row.get("*") if who != ANON else None)


# The access world's claim is another volunteer's (404 to the requesting one): the
# volunteer's own steps on duty are fuzzed on claims of their own (_own_claims).
ON_DUTY = (
    "duty.check_in",
    "duty.visit",
    "duty.check_out",
    "duty.track_consent",
    "duty.track",
)


def plan() -> dict[str, list[str]]:
    """{role: [endpoint, ...]}: each POST route under one role that may post it (every
    such role with SWEEP_DEEP)."""
    out: dict[str, list[str]] = {}
    for endpoint, (_method, row) in sorted(EXPECTED.items()):
        allowed = [who for who in PREFERENCE if _status(row, who) in THROUGH]
        for who in allowed if DEEP else allowed[:1]:
            out.setdefault(who, []).append(endpoint)
    out.setdefault("volunteer", []).extend(ON_DUTY)
    return out


PLAN = plan()


def _own_claims(app, username: str, values: dict) -> dict[str, dict]:
    """Two duties starting now, one claimed by the volunteer, one they are on: the
    values of the on-duty routes' URLs {endpoint: values}."""
    with app.app_context():
        session = db.session
        user = get_user(session, username)
        area = session.get(DutyTask, values["task_id"]).area
        claimed = make_duty(session, area=area, starts_in=timedelta(minutes=5), title="fuzz a")
        on_duty = make_duty(session, area=area, starts_in=timedelta(minutes=-5), title="fuzz b")
        ready = make_claim(session, task=claimed, volunteer=user)
        busy = make_claim(
            session, task=on_duty, volunteer=user, status="on_duty", checked_in_at=utcnow()
        )
        point = first_checkpoint(session, on_duty).id
        session.commit()
        return {
            "duty.check_in": {**values, "claim_id": ready.id},
            "duty.visit": {**values, "claim_id": busy.id, "checkpoint_id": point},
            "duty.check_out": {**values, "claim_id": busy.id},
            "duty.track_consent": {**values, "claim_id": busy.id},
            "duty.track": {**values, "claim_id": busy.id},
        }


def _post_endpoints(app) -> set[str]:
    return {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods}


def test_every_post_route_is_fuzzed(app):
    planned = {e for endpoints in PLAN.values() for e in endpoints}
    missing = sorted(_post_endpoints(app) - planned)
    assert not missing, f"POST routes no role may reach (see tests/access_rules): {missing}"


# --- one role's forms ----------------------------------------------------------------


def _pages(app, who: str, values: dict) -> list[str]:
    """The role's GET pages in its world (those its access row answers with 200)."""
    urls = []
    for rule in app.url_map.iter_rules():
        method, row = EXPECTED[rule.endpoint]
        if "GET" in rule.methods and method == "GET" and _status(row, who) == 200:
            url = _url(app, rule, values)
            if not urlsplit(url).path.endswith((".csv", ".xlsx")):
                urls.append(url)
    return sorted(set(urls))


def collect_forms(app, client, pages: list[str]) -> dict[str, list[Form]]:
    """{endpoint: [forms found on the pages that submit to it]}."""
    found: dict[str, list[Form]] = {}
    for url in pages:
        resp = client.get(url)
        if resp.mimetype == "text/html":
            for form in forms_in(url, resp.get_data(as_text=True)):
                endpoint = route_of(app, form)
                if endpoint is not None:
                    found.setdefault(f"{form.method}:{endpoint}", []).append(form)
        resp.close()
    return found


class Sweep:
    """Posts submissions to one client, each in a SAVEPOINT rolled back after it."""

    def __init__(self, app, client, connection, csrf: str | None):
        self.app = app
        self.client = client
        self.connection = connection
        self.csrf = csrf
        name = app.config["SESSION_COOKIE_NAME"]
        cookie = client.get_cookie(name)
        self.cookie = (name, cookie.value) if cookie else None
        self.requests = 0
        self.statuses: Counter[int] = Counter()

    def send(self, form: Form, sub: Submission):
        limiter.reset()
        if self.cookie:
            self.client.set_cookie(*self.cookie)
        headers = {"HX-Request": "true"} if sub.htmx else None
        savepoint = self.connection.begin_nested() if self.connection is not None else None
        try:
            self.requests += 1
            if form.method == "post":
                return self.client.post(form.action, data=sub.multidict(), headers=headers)
            return self.client.get(form.action, query_string=sub.multidict(), headers=headers)
        finally:
            if savepoint is not None and savepoint.is_active:
                savepoint.rollback()

    def fuzz(self, form: Form, also: frozenset = frozenset()) -> str | None:
        """None, or what went wrong for the simplest failing submission Hypothesis found
        (`also`: statuses this form may answer besides ALLOWED)."""
        allowed = ALLOWED | also

        @PROFILE
        @given(submissions(form.fields, self.csrf if form.method == "post" else None))
        def run(sub):
            try:
                resp = self.send(form, sub)
            except Exception as exc:  # the test client re-raises a view's exception
                raise AssertionError(
                    f"{exc!r} for {sub!r}\n{''.join(traceback.format_exception(exc)[-6:])}"
                ) from exc
            status = resp.status_code
            self.statuses[status] += 1
            body = resp.get_data(as_text=True)[:300] if status not in allowed else ""
            resp.close()
            assert status in allowed, f"{status} for {sub!r}: {body}"

        csrf = self.csrf if form.method == "post" else None
        for sub in edges(form.fields, csrf):
            run = example(sub)(run)
        try:
            run()
        except AssertionError as exc:
            return f"{form.method.upper()} {form.action}: {str(exc).splitlines()[0][:2000]}"
        return None


def _forms_for(app, endpoint: str, found: dict, values: dict) -> list[Form]:
    """The forms posting to `endpoint`: those the pages show (one per distinct action
    and field set), else one read from the view's WTForms classes."""
    forms, seen = [], set()
    for form in found.get(f"post:{endpoint}", []):
        key = (urlsplit(form.action).path, tuple(sorted(form.fields)))
        if key not in seen:
            seen.add(key)
            forms.append(form)
    if not forms:
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        fields = wtforms_fields(app.view_functions[endpoint])
        forms.append(Form(_url(app, rule, values), "post", fields, page="(WTForms class)"))
    return forms[:2]


@pytest.mark.parametrize("who", sorted(PLAN))
def test_fuzzed_forms_answer_only_expected_statuses(app, _transaction, who, record_property):
    started = time.perf_counter()
    username, values = _world(app, who)
    client = _client_as(app, username)
    with client.session_transaction() as sess:
        sess["locale"] = "en"
    csrf = csrf_from(client.get("/login" if who == ANON else "/").get_data(as_text=True))
    own = _own_claims(app, username, values) if who == "volunteer" else {}
    pages = _pages(app, who, values)
    pages += [f"/duties/claims/{v['claim_id']}" for v in own.values()]
    found = collect_forms(app, client, pages)
    collected = time.perf_counter() - started
    sweep = Sweep(app, client, _transaction, csrf)
    failures, fuzzed = [], []
    endpoints = [e for e in PLAN[who] if "POST" in _methods(app, e)]
    for endpoint in endpoints:
        for form in _forms_for(app, endpoint, found, own.get(endpoint, values)):
            fuzzed.append(form.action)
            failure = sweep.fuzz(form, ALSO.get(endpoint, frozenset()))
            if failure:
                failures.append(f"{endpoint} as {who}: {failure}")
    # The filters (GET forms) of the pages the role sees.
    for key, forms in sorted(found.items()):
        if key.startswith("get:"):
            form = forms[0]
            fuzzed.append(form.action)
            failure = sweep.fuzz(form)
            if failure:
                failures.append(f"{key[4:]} as {who}: {failure}")
    print(
        f"\nfuzz {who}: {len(fuzzed)} forms, {sweep.requests} requests "
        f"in {time.perf_counter() - started:.1f} s ({len(pages)} pages read in {collected:.1f} s); "
        f"answers {dict(sorted(sweep.statuses.items()))}"
    )
    record_property("requests", sweep.requests)
    assert not failures, "\n\n".join(failures)
    assert sweep.requests >= len(fuzzed) * min(PROFILE.max_examples, 5)


def _methods(app, endpoint: str) -> set[str]:
    return {m for r in app.url_map.iter_rules() if r.endpoint == endpoint for m in r.methods}


# --- the sweep can fail --------------------------------------------------------------


def _toy_app() -> Flask:
    """A small app with the flaws the sweep looks for: views that fail on some input."""
    toy = Flask("toy")
    toy.config.update(TESTING=True, PROPAGATE_EXCEPTIONS=False)

    @toy.post("/ascii")
    def ascii_only():
        request.form.get("note", "").encode("ascii")  # UnicodeEncodeError: a 500
        return "ok"

    @toy.post("/raised")
    def raised():
        if any(len(v) > 1000 for v in request.form.values()):
            raise KeyError("a long value")
        return "ok"

    return toy


def test_the_sweep_finds_a_server_error_on_non_ascii_text():
    toy = _toy_app()
    sweep = Sweep(toy, toy.test_client(), None, None)
    form = Form("/ascii", "post")
    form.add("note", "textarea", "ok")
    failure = sweep.fuzz(form)
    assert failure and failure.startswith("POST /ascii: 500"), failure


def test_the_sweep_finds_an_exception_a_view_raises():
    toy = _toy_app()
    toy.config["PROPAGATE_EXCEPTIONS"] = True
    sweep = Sweep(toy, toy.test_client(), None, None)
    form = Form("/raised", "post")
    form.add("title", "text", "ok")
    failure = sweep.fuzz(form)
    assert failure and "KeyError" in failure, failure
