"""Real Chromium against a live server on its own seeded database.

The server runs in a thread, on a scratch database (SQLite file, or a separate
PostgreSQL database when TEST_DATABASE_URL points at one). The suite's
transaction-per-test fixture is switched off here: the server thread must use
the real `db.session`, bound to its own engine.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Page, Response
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from community import create_app
from community.accounts import services
from community.accounts.models import Area, Membership
from community.config import TestConfig
from community.extensions import db
from community.seed import ACCOUNTS, seed
from tests import dbutil
from tests.browser.helpers import login

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
PHONE = {"width": 360, "height": 740}
HERE = Path(__file__).resolve().parent

_seq = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Raised from this hook (not a fixture), the skip keeps this file's location,
    # so -ra folds every skipped browser test into one line.
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Chromium not found at {CHROMIUM}; CI must run the browser tests")
    pytest.skip(
        "Chromium not found at /usr/bin/chromium; browser tests skipped "
        "(install with apt-get install chromium)"
    )


@pytest.fixture(autouse=True)
def _transaction() -> None:
    """Overrides the suite's rolled-back transaction: the live server needs the real session."""


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


# --- live server -----------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    app: Flask
    passwords: dict[str, str]
    display_names: dict[str, str] = field(
        default_factory=lambda: {username: display for username, display, *_ in ACCOUNTS}
    )


class _QuietHandler(WSGIRequestHandler):
    """No line per request; errors are still logged."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    url = dbutil.scratch_url("browser")
    app = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with app.app_context():
        flask_migrate.upgrade()
        demo = seed(db.session)
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(
            url=f"http://127.0.0.1:{server.server_port}",
            app=app,
            passwords={a["username"]: a["password"] for a in demo["accounts"]},
        )
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@dataclass
class Team:
    """A fresh volunteer team, and a user who may join it."""

    org_id: int
    org_name: str
    username: str
    display_name: str
    membership_id: int | None = None


@pytest.fixture
def new_team(live_server) -> Callable[..., Team]:
    """new_team(with_member=False) creates a volunteer team (and a candidate user)
    straight in the live server's database, so each test owns its data."""

    def make(with_member: bool = False) -> Team:
        n = next(_seq)
        with live_server.app.app_context():
            area = db.session.scalar(select(Area).where(Area.name == "东村社区"))
            org = services.create_organization(db.session, f"测试志愿队{n}", "volunteer_team", area)
            user = services.create_user(
                db.session, f"browser{n}", "browser-password-1", display_name=f"测试员{n}"
            )
            membership: Membership | None = None
            if with_member:
                membership = services.add_membership(db.session, None, user, "volunteer", org)
            db.session.commit()
            team = Team(
                org_id=org.id,
                org_name=org.name,
                username=user.username,
                display_name=user.display_name,
                membership_id=membership.id if membership else None,
            )
            db.session.remove()
        return team

    return make


# --- pages -----------------------------------------------------------------


class Problems:
    """Console errors, CSP violations, page errors and failed static files of one page."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.found.append(f"pageerror: {exc}"))
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)

    def _console(self, msg: ConsoleMessage) -> None:
        text = msg.text
        if "Content Security Policy" in text:
            self.found.append(f"CSP violation: {text}")
        elif msg.type == "error" and not text.startswith("Failed to load resource"):
            # An answer of 401/422 is an expected outcome; its "Failed to load
            # resource" line is not an error. Static files are checked below.
            self.found.append(f"console error: {text}")

    def _request_failed(self, request) -> None:
        # A request cut short by the next navigation (the header bell's lazy count
        # while a test moves on) is not a failure of the page.
        if "ERR_ABORTED" in (request.failure or ""):
            return
        self.found.append(f"request failed: {request.url}")

    def _response(self, response: Response) -> None:
        if "/static/" in response.url and response.status >= 400:
            self.found.append(f"static file {response.url} answered {response.status}")


@pytest.fixture
def make_page(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., Page]]:
    """make_page(js=True, viewport=None) opens a fresh context on the live server; at
    the end, any console error, CSP violation or page error fails the test."""
    contexts = []
    problems = Problems()

    def make(js: bool = True, viewport: dict[str, int] | None = None) -> Page:
        options: dict[str, Any] = {"base_url": live_server.url, "java_script_enabled": js}
        if viewport:
            options["viewport"] = viewport
        context = browser.new_context(**options)
        context.set_default_timeout(5_000)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems.found, "browser reported problems:\n" + "\n".join(problems.found)


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def js(request) -> bool:
    return request.param


@pytest.fixture
def page(make_page, js) -> Page:
    """A desktop page, once with JavaScript and once without."""
    return make_page(js=js)


@pytest.fixture
def login_as(live_server):
    """login_as(page, username) logs a seeded account in through the form."""

    def do(page: Page, username: str) -> None:
        login(page, username, live_server.passwords[username])
        assert page.url == live_server.url + "/", page.url

    return do


@dataclass
class FreshSite:
    """A site of the demo landlord in 东村社区 with one building, made for one test."""

    id: int
    name: str
    building_id: int
    building_name: str
    qr_token: str


@pytest.fixture
def new_site(live_server) -> Callable[..., FreshSite]:
    """new_site(admitted=False, rooms=(), name=None) registers a rental house of the seeded
    landlord (police of 东城派出所 may inspect it) with one building, straight in the
    live server's database; `rooms` are (number, beds, occupants)."""
    from datetime import date

    from community.accounts.models import User
    from community.places.models import Building, Room, Site

    def make(
        admitted: bool = False,
        rooms: tuple[tuple[str, int, int], ...] = (),
        name: str | None = None,
    ) -> FreshSite:
        n = next(_seq)
        with live_server.app.app_context():
            area = db.session.scalar(select(Area).where(Area.name == "东村社区"))
            landlord = db.session.scalar(select(User).where(User.username == "landlord"))
            site = Site(
                name=name or f"浏览器测试楼{n}",
                kind="rental_house",
                area_id=area.id,
                address=f"测试路{n}号",
                landlord_id=landlord.id,
                created_by_id=landlord.id,
                admitted_on=date(2024, 1, 15) if admitted else None,
                last_inspected_on=date(2024, 1, 15) if admitted else None,
            )
            building = Building(site=site, name=f"{n}号楼")
            db.session.add_all([site, building])
            db.session.add_all(
                Room(building=building, number=number, beds=beds, occupants=occupants)
                for number, beds, occupants in rooms
            )
            db.session.commit()
            fresh = FreshSite(site.id, site.name, building.id, building.name, site.qr_token)
            db.session.remove()
        return fresh

    return make


@pytest.fixture(scope="module")
def worker(live_server):
    """A worker on the live server's database, polling every 0.2 s (what `flask
    worker` does beside the server): imports run there, never in a request."""
    from community.core.jobs import work

    stopping = threading.Event()
    app = live_server.app

    def run() -> None:
        with app.app_context():
            work(db.session, app.config, stopping, poll=0.2)
            db.session.remove()

    thread = threading.Thread(target=run, name="worker", daemon=True)
    thread.start()
    yield
    stopping.set()
    thread.join(timeout=30)
