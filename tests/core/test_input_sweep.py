"""Every route, fed hostile text in every query parameter, path part and form field it
reads, never answers 500 -- on SQLite and PostgreSQL.

General over app.url_map: a route added later is swept too. Each route is requested
as admin and as police where they reach it (else the first role in PREFERENCE that
does), read from the access tables in tests/access_rules/ that every route must have
(test_access.py). The ids in URLs are those of the access tests' world (unknown
argument names get 1). Query parameters: the names the page's GET forms and links
use plus COMMON_PARAMS. Form fields: the names of the inputs, selects, textareas and
buttons of every form on the role's pages whose action is the route's URL (the other
fields keep the values the page gave them, so the hostile one gets as far as it can),
plus one request setting every field name of every WTForms class at once.

Bounds: `make test` sweeps each route as one role (admin where it reaches the route,
else police, else the first that does) with the payloads that have made servers fail
(NUL, length, integer range); SWEEP_DEEP=1 (`make test-deep`) adds the police beside
the admin and the right-to-left override (about three times as long).
"""

from __future__ import annotations

import os
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import url_for
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from tests.access_rules import ANON, LOGIN, expected
from tests.conftest import csrf_from
from tests.test_access import _client_as, _world

DEEP = os.environ.get("SWEEP_DEEP") == "1"
PAYLOADS = {
    "nul": "a\x00b",
    "long": "x" * 10_000,
    "huge-number": "9" * 30,  # past every integer column
}
if DEEP:
    PAYLOADS["rtl-override"] = "\u202eevil\u202c"
COMMON_PARAMS = ("q", "page", "status", "tab", "site", "area_id", "kind", "stars", "next")
PREFERENCE = (
    "admin",
    "police",
    "coordinator",
    "association",
    "property_manager",
    "landlord",
    "enterprise",
    "volunteer",
    ANON,
)
NOT_REACHED = {None, 403, 404, 405, LOGIN}
SKIPPED = {"static"}
# Requested last: each ends what the following requests would need.
LAST = ("accounts.logout",)


def _status(table: dict, who: str):
    return table.get(who, table.get("*") if who != ANON else None)


def _roles_for(endpoint: str, table: dict) -> list[str]:
    reaching = [w for w in PREFERENCE if _status(table, w) not in NOT_REACHED]
    # A redirect (a logged-in user on /login) reaches nothing when someone else gets in.
    direct = [w for w in reaching if _status(table, w) != 302] or reaching
    both = [w for w in ("admin", "police") if w in direct]
    return (both if DEEP else both[:1]) or direct[:1]


def _wtforms_field_names() -> set[str]:
    names: set[str] = set()
    todo = [FlaskForm]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        names.update(n for n in dir(cls) if isinstance(getattr(cls, n, None), UnboundField))
    return names


class _Forms(HTMLParser):
    """The forms of a page: (method, action path, [(name, value)]) and link query keys."""

    def __init__(self, page_path: str):
        super().__init__()
        self.page_path = page_path
        self.forms: list[tuple[str, str, list[tuple[str, str]]]] = []
        self.link_params: set[str] = set()
        self._form = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None and value:
                self._select_first = value
            if "selected" in a:
                self._select_chosen = value
            return
        if tag == "a" and a.get("href"):
            parts = urlsplit(a["href"])
            if parts.path in ("", self.page_path):
                self.link_params.update(k for k, _ in parse_qsl(parts.query, True))
        if tag == "form":
            action = urlsplit(a.get("action") or self.page_path).path or self.page_path
            self._form = ((a.get("method") or "get").lower(), action, [])
            self.forms.append(self._form)
        if self._form is None or not a.get("name"):
            return
        fields = self._form[2]
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                fields.append((a["name"], None))  # known name, no value sent by default
            elif kind != "file":
                fields.append((a["name"], a.get("value") or ""))
        elif tag == "button":
            fields.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select, self._select_first, self._select_chosen = a["name"], None, None
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea and self._form is not None:
            self._form[2].append((self._textarea, self._text))
            self._textarea = None
        elif tag == "select" and self._select and self._form is not None:
            value = self._select_chosen or self._select_first or ""
            self._form[2].append((self._select, value))
            self._select = None


def _parse(html: str, page_path: str) -> _Forms:
    parser = _Forms(page_path)
    parser.feed(html)
    return parser


def _url(app, rule, values, **override) -> str:
    args = {arg: override.get(arg, values.get(arg, 1)) for arg in rule.arguments}
    with app.test_request_context():
        return url_for(rule.endpoint, **args)


def _string_args(rule) -> list[str]:
    from werkzeug.routing import IntegerConverter

    return [a for a, conv in rule._converters.items() if not isinstance(conv, IntegerConverter)]


def _sweep_as(app, who: str, rules, wtforms_names: set[str]) -> list[str]:
    username, values = _world(app, who)
    client = _client_as(app, username)
    failures: list[str] = []

    def check(method: str, url: str, what: str, **kwargs) -> None:
        resp = getattr(client, method)(url, **kwargs)
        if resp.status_code >= 500:
            failures.append(f"{method.upper()} {url} {what} as {who}: {resp.status_code}")
        resp.close()

    # Read every page this role may GET: its query parameters and its forms.
    params: dict[str, set[str]] = {}
    forms: dict[str, list[tuple[str, str | None]]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED or "GET" not in rule.methods:
            continue
        url = _url(app, rule, values)
        resp = client.get(url)
        if resp.mimetype == "text/html":
            page = _parse(resp.get_data(as_text=True), urlsplit(url).path)
            params[url] = set(page.link_params)
            for method, action, fields in page.forms:
                if method == "get" and action == urlsplit(url).path:
                    params[url].update(name for name, _ in fields)
                elif method == "post":
                    forms.setdefault(action, fields)
        resp.close()

    token = csrf_from(client.get("/login" if who == ANON else "/").get_data(as_text=True))
    for rule in rules:
        url = _url(app, rule, values)
        for arg in _string_args(rule):
            for name, payload in PAYLOADS.items():
                method = "get" if "GET" in rule.methods else "post"
                bad_url = _url(app, rule, values, **{arg: payload})
                check(method, bad_url, f"<{arg}>={name}", data={"csrf_token": token})
        if "GET" in rule.methods:
            for param in sorted(params.get(url, set()) | set(COMMON_PARAMS)):
                for name, payload in PAYLOADS.items():
                    check("get", url, f"?{param}={name}", query_string={param: payload})
        if "POST" in rule.methods:
            fields = forms.get(urlsplit(url).path, [])
            defaults = {n: v for n, v in fields if v is not None and n != "csrf_token"}
            names = {n for n, _ in fields if n != "csrf_token"} | {"submission_token"}
            for field in sorted(names):
                for name, payload in PAYLOADS.items():
                    data = {**defaults, "submission_token": secrets.token_urlsafe(24)}
                    data.update({field: payload, "csrf_token": token})
                    check("post", url, f"{field}={name}", data=data)
            for name, payload in PAYLOADS.items():
                data = {n: payload for n in wtforms_names if n != "csrf_token"}
                check(
                    "post", url, f"every-wtforms-field={name}", data={**data, "csrf_token": token}
                )
    return failures


def test_no_route_answers_500_to_hostile_text(app):
    table = expected()
    wtforms_names = _wtforms_field_names()
    by_role: dict[str, list] = {}
    rules = sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint not in SKIPPED),
        key=lambda r: (r.endpoint in LAST, r.endpoint),
    )
    for rule in rules:
        assert rule.endpoint in table, f"{rule.endpoint}: no row in tests/access_rules"
        for who in _roles_for(rule.endpoint, table[rule.endpoint][1]):
            by_role.setdefault(who, []).append(rule)
    failures: list[str] = []
    for who, role_rules in by_role.items():
        failures += _sweep_as(app, who, role_rules, wtforms_names)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "endpoint,roles",
    [
        ("admin.users", ["admin"]),
        ("places.show", ["admin", "police"] if DEEP else ["admin"]),
        ("residents.verify", ["police"]),
        ("accounts.login", [ANON]),
    ],
)
def test_the_sweep_picks_roles_that_reach_the_route(endpoint, roles):
    assert _roles_for(endpoint, expected()[endpoint][1]) == roles
