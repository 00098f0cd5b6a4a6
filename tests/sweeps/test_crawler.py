"""Crawler sweep (issue 17): as anonymous and as each role, start at `/` and follow
every same-origin GET link (`href`, `hx-get`, a redirect's Location) breadth-first,
on one seeded world with known ID numbers and phones. Every answer: no 5xx; no
unmasked ID number or phone of the seeded people anywhere in the body, the headers
or the URL (CSV and xlsx exports included) — the police get the full numbers only
in their ledger exports (the reveal is a POST, never crawled); `no-store` behind
login; the security headers of core/security.py on every HTML page. The app's log
records of the whole crawl carry no ID number (masked or not), phone, password,
session cookie or CSRF token.

Bounds (env): CRAWL_MAX_PAGES requests per role (default 150), CRAWL_MAX_VARIANTS
query strings per path (default 4), CRAWL_MAX_PER_SHAPE paths per shape
(/residents/<n>: default 5, so the budget spreads over every kind of page);
pagers beyond page 2 are not followed.
"""

from __future__ import annotations

import io
import logging
import os
import re
import time
import zipfile
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest

from community.accounts.models import ORG_KINDS, ROLE_ORG_KINDS, ROLES
from community.assessments.criteria import add_months
from community.core.crypto import mask_id_number, mask_phone
from community.core.timeutil import today, utcnow
from community.core.validators import check_digit
from community.extensions import db, limiter
from community.residents import queries as resident_queries
from community.residents import services as resident_services
from community.residents.compliance import services as compliance_services
from community.residents.compliance.models import YellowCardProposal
from community.residents.imports import services as import_services
from tests.access_rules import ANON
from tests.conftest import PASSWORD, csrf_from, rolled_back
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.assessments import make_assessment
from tests.factories.duty import make_claim, make_duty
from tests.factories.hazards import make_hazard
from tests.factories.inspections import make_incident, make_inspection
from tests.factories.notifications import make_notice
from tests.factories.places import make_application, make_building, make_room, make_site
from tests.factories.residents import id_number, make_residence

MAX_PAGES = int(os.environ.get("CRAWL_MAX_PAGES", "150"))
MAX_VARIANTS = int(os.environ.get("CRAWL_MAX_VARIANTS", "4"))
MAX_PER_SHAPE = int(os.environ.get("CRAWL_MAX_PER_SHAPE", "5"))
MAX_PAGER = 2

# Pages each crawl must at least reach (measured: see the commit), so a broken
# login or an empty start page cannot make the sweep pass vacuously.
# Measured at the defaults (SQLite and PostgreSQL alike): anonymous 5, admin 150,
# police 150, coordinator 130, association 45, landlord 71, property manager 91,
# enterprise 33, volunteer 86; the bounds are about half of that.
MIN_PAGES = {
    ANON: 4,
    "admin": 60,
    "police": 60,
    "coordinator": 60,
    "association": 20,
    "landlord": 35,
    "property_manager": 45,
    "enterprise": 15,
    "volunteer": 40,
    "mediator": 15,
}

# The seeded people: resident ID numbers (GB 11643 check digit) and mobile numbers.
IDS = [id_number(date(1990, 1, 1) + timedelta(days=k), serial=k) for k in range(1, 31)]
PHONES = [f"138123456{k:02d}" for k in range(1, 31)]
# Staff with a phone on their account (a user's phone is personal data too).
STAFF_PHONES = {"landlord": "13912345601", "volunteer": "13912345602", "police": "13912345603"}
# A row of the import file refused for its phone: its ID number is one of the people's.
IMPORT_ID = id_number(date(1985, 6, 1), serial=77)
IMPORT_PHONE = "13712345699"
# ...and one refused for a typo in its number (wrong check digit): personal all the same.
IMPORT_TYPO = IMPORT_ID[:-1] + ("0" if IMPORT_ID[-1] != "0" else "1")

MASKED_IDS = [mask_id_number(n) for n in IDS]
# Roles that see residents (residents.permissions): their crawl must meet the
# seeded people, masked, or the scan proved nothing.
SEES_RESIDENTS = ("admin", "police", "coordinator", "landlord", "property_manager", "enterprise")

LEDGER_EXPORT = re.compile(r"^/(sites|buildings)/\d+/ledger\.(csv|xlsx)$")
ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")


# --- the scanner --------------------------------------------------------------------


def personal_numbers() -> dict[str, str]:
    """{value: what it is} of every full number the pages must not show."""
    found = {n: f"ID number #{i + 1}" for i, n in enumerate(IDS)}
    found.update({p: f"phone #{i + 1}" for i, p in enumerate(PHONES)})
    found.update({p: f"{role}'s phone" for role, p in STAFF_PHONES.items()})
    found[IMPORT_ID] = "imported ID number"
    found[IMPORT_PHONE] = "imported phone"
    found[IMPORT_TYPO] = "mistyped ID number"
    return found


def scan(text: str, known: dict[str, str] | None = None) -> list[str]:
    """What `text` shows in full: a seeded number anywhere (markup, attributes,
    comments, scripts), or any 18-character ID number that passes the check digit."""
    known = personal_numbers() if known is None else known
    upper = text.upper()
    hits = [f"{what} {value}" for value, what in known.items() if value.upper() in upper]
    for match in ID_RE.finditer(text):
        number = match.group(1).upper()
        if number not in known and check_digit(number[:17]) == number[17]:
            hits.append(f"an ID number {number}")
    return hits


def body_text(resp) -> str:
    """The body as text; an xlsx workbook is unzipped and its XML parts read."""
    data = resp.get_data()
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as book:
                return "\n".join(
                    book.read(name).decode("utf-8", "replace") for name in book.namelist()
                )
        except zipfile.BadZipFile:
            pass
    return data.decode("utf-8", "replace")


def test_scanner_flags_a_full_id_in_an_attribute_and_a_comment():
    number = IDS[0]
    assert scan(f'<div data-person="{number}">x</div>')
    assert scan(f"<p>ok</p><!-- {number} -->")
    assert scan(f"<input type=hidden name=n value='{PHONES[3]}'>")
    # Not a seeded one, but a valid number all the same.
    other = "11010519491231002X"
    assert scan(f'<span hx-vals=\'{{"n": "{other}"}}\'></span>') == [f"an ID number {other}"]
    assert not scan("<td>330302********123X</td><td>138****5678</td>")
    assert not scan(f"<td>{mask_id_number(number)}</td><td>{mask_phone(PHONES[0])}</td>")


def test_scanner_reads_inside_an_xlsx():
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["x", IDS[1]])
    out = io.BytesIO()
    book.save(out)

    class Resp:
        def get_data(self):
            return out.getvalue()

    assert scan(body_text(Resp())) == [f"ID number #2 {IDS[1]}"]


# --- the world ----------------------------------------------------------------------


def _seed(session) -> dict:
    """Sites, buildings, rooms, 30 residents in every state, hazards, inspections,
    incidents, duties and claims, assessments, notices, yellow cards, an association
    application and an import with a refused row; one user per role, all covering
    the one community."""
    district, street, community = make_area_tree(session, prefix="crawl")
    orgs = {kind: make_org(session, kind=kind, area=community) for kind in ORG_KINDS}
    users = {}
    for role in ROLES:
        kind = ROLE_ORG_KINDS[role][0]
        users[role] = make_role_user(
            session,
            role,
            password=PASSWORD,
            org=orgs.get(kind) if kind else None,
            area=None if kind or role == "admin" else community,
            username=f"crawl-{role}",
        )
    for role, phone in STAFF_PHONES.items():
        users[role].phone = phone
    police, landlord, manager = users["police"], users["landlord"], users["property_manager"]
    volunteer, coordinator = users["volunteer"], users["coordinator"]

    house = make_site(
        session,
        area=community,
        landlord=landlord,
        association=orgs["landlord_association"],
        name="东村出租屋",
        admitted_on=today() - timedelta(days=200),
    )
    compound = make_site(
        session, area=community, company=orgs["property_company"], name="和平小区", kind="compound"
    )
    dorm = make_site(
        session,
        area=community,
        company=orgs["property_company"],
        name="工业园宿舍",
        kind="dormitory",
        enterprise_id=orgs["enterprise"].id,
    )
    rooms = []
    for site in (house, compound, dorm):
        for b in ("1号楼", "2号楼"):
            building = make_building(session, site=site, name=b)
            for number in ("101", "102", "201"):
                rooms.append(make_room(session, building=building, number=number, beds=4))
    rooms = [resident_queries.get_room(session, r.id) for r in rooms]

    reporters = {house.id: (landlord, "landlord"), compound.id: (manager, "property_manager")}
    reporters[dorm.id] = (users["enterprise"], "enterprise")
    states = ["pending", "verified", "rejected", "moved_out", "verified"]
    for k, (number, phone) in enumerate(zip(IDS, PHONES, strict=True)):
        room = rooms[k % len(rooms)]
        reporter, channel = reporters[room.building.site_id]
        if k % 7 == 6:
            reporter, channel = None, "self_declared"
        elif k % 11 == 10:
            reporter, channel = police, "police"
        state = states[k % len(states)]
        if state in ("verified", "moved_out"):
            status = "verified"
        else:  # a police report is verified at once: never sent back
            status = "rejected" if state == "rejected" and channel != "police" else "pending"
        residence = make_residence(
            session,
            room=room,
            reporter=reporter,
            channel=channel,
            status=status,
            decider=police,
            name=f"住户{k + 1}",
            number=number,
            phone=phone,
            # Every third one reported late (move-in long before the report).
            move_in=today() - timedelta(days=40 if k % 3 == 0 else 1),
            reason="房间号不对",
        )
        if k == 1:
            revealed = (residence.id, number, phone)
        if state == "moved_out":
            resident_services.move_out(
                session, landlord if reporter is landlord else police, residence, today()
            )

    month = today().replace(day=1)
    compliance_services.issue_yellow_card(
        session, police, month=add_months(month, -1), reason="迟报三次", user_id=landlord.id
    )
    compliance_services.issue_yellow_card(
        session,
        police,
        month=add_months(month, -1),
        reason="迟报五次",
        organization_id=orgs["property_company"].id,
    )
    session.add(
        YellowCardProposal(
            organization_id=orgs["property_company"].id, month=month, area_id=community.id
        )
    )

    for site, actor in ((house, landlord), (compound, manager)):
        make_hazard(session, site=site, reporter=volunteer, actor=actor, status="open")
        make_hazard(session, site=site, reporter=volunteer, actor=actor, status="fixed")
        make_hazard(session, site=site, reporter=actor, actor=actor, status="fixed", reopened=True)
    make_inspection(session, site=house, inspector=police, results="pass", completed=True)
    make_inspection(session, site=compound, inspector=police)
    make_incident(session, site=compound, recorded_by=police, occurred_on=today() - timedelta(50))
    for site in (house, compound):
        make_assessment(session, site=site, month=add_months(month, -1), status="submitted")
        make_assessment(
            session, site=site, month=add_months(month, -2), status="approved", score=92, stars=5
        )

    upcoming = make_duty(session, area=community, publisher=coordinator, title="夜间巡防")
    make_duty(session, area=community, publisher=coordinator, kind="fire_check", title="消防巡查")
    past = make_duty(
        session,
        area=community,
        publisher=coordinator,
        title="反诈宣传",
        kind="anti_fraud",
        starts_in=timedelta(days=-3),
    )
    make_claim(session, task=upcoming, volunteer=volunteer)
    make_claim(session, task=past, volunteer=volunteer, status="reported", checked_in_at=utcnow())
    other = make_role_user(session, "volunteer", area=community, password=PASSWORD)
    make_claim(session, task=past, volunteer=other, status="approved", checked_in_at=utcnow())

    _mediation(session, users, orgs, community, police)

    make_application(
        session,
        landlord=make_role_user(session, "landlord", area=community),
        association=orgs["landlord_association"],
    )
    for user in users.values():
        make_notice(session, user=user, site="东村出租屋")
        make_notice(session, user=user, read=True, site="和平小区")

    # An import by the landlord: one row imported, one refused for its phone (the
    # error file shows the row's values masked).
    building = rooms[0].building
    csv_text = (
        "site_id,building,room,name,id_number,phone,move_in,hometown,employer\n"
        f"{house.id},{building.name},102,导入甲,{IMPORT_ID},{IMPORT_PHONE},"
        f"{today() - timedelta(days=2)},湖南,\n"
        f"{house.id},{building.name},101,导入乙,{IMPORT_TYPO},13712345698,"
        f"{today() - timedelta(days=2)},湖南,\n"
    )
    job = import_services.start_import(session, landlord, "tenants.csv", csv_text.encode())
    for _ in range(5):
        import_services.run_step(session, landlord, job)
    return {
        "token": house.qr_token,
        "users": {role: user.username for role, user in users.items()},
        "job": (job.id, job.status, job.imported, job.refused),
        "revealed": revealed,
    }


def _mediation(session, users, orgs, community, police) -> None:
    """The crawl mediator leads the team; cases in each state whose parties have the
    seeded phones and ID numbers (masked wherever they show), a session booked."""
    from community.core.timeutil import now_local
    from community.mediation import services as mediation
    from community.mediation.models import MediationMember
    from tests.factories.mediation import make_member, make_room

    team = orgs["mediation_team"]
    session.add(
        MediationMember(
            team_id=team.id, user_id=users["mediator"].id, position="lead", category="social"
        )
    )
    session.flush()
    other = make_member(session, team=team, phone="13912345677")
    room = make_room(session, area=community, name="东村调解室")
    for k, final in enumerate(("new", "accepted", "agreement", "closed")):
        parties = [
            mediation.PartyInput(f"当事人{k}甲", PHONES[2 * k], "applicant", id_number=IDS[2 * k]),
            mediation.PartyInput(f"当事人{k}乙", PHONES[2 * k + 1], "respondent"),
        ]
        case = mediation.open_case(
            session,
            police,
            mediation.CaseInput("rent", "police", community, "押金纠纷", "high", parties),
        )
        if final == "new":
            continue
        mediation.accept_case(session, users["mediator"], case, mediation.Assignment(other.id))
        start = (now_local() + timedelta(days=1 + k)).replace(hour=10, minute=0, second=0)
        mediation.book_session(
            session,
            users["mediator"],
            case,
            mediation.Booking(room, other.id, start, start + timedelta(hours=1)),
        )
        if final == "accepted":
            continue
        mediation.conclude_case(
            session,
            other,
            case,
            mediation.Outcome("agreement", terms="退还押金", settled_amount=900),
        )
        if final == "closed":
            mediation.record_followup(session, other, case, performed=True, satisfied=True, note="")
            mediation.close_case(session, other, case)


@pytest.fixture(scope="module")
def world(app, tmp_path_factory):
    """The seeded world, committed into one outer transaction of its own that is
    rolled back after the module (the conftest's per-test isolation, at module
    scope: requests commit into SAVEPOINTs of it, as in every other test)."""
    import_dir = str(tmp_path_factory.mktemp("crawl-imports"))
    saved_dir = app.config.get("IMPORT_DIR")
    app.config["IMPORT_DIR"] = import_dir  # the import's upload and error files
    try:
        with rolled_back(app):
            with app.app_context():
                started = time.perf_counter()
                seeded = _seed(db.session)
                db.session.commit()
                print(f"\ncrawl world seeded in {time.perf_counter() - started:.1f} s")
            yield seeded
    finally:
        app.config["IMPORT_DIR"] = saved_dir


@pytest.fixture(autouse=True)
def _transaction(app, request):
    """Replaces the conftest's per-test transaction: the crawls share the module's
    world (built once), whose transaction is rolled back at the end."""
    if "world" in request.fixturenames:
        request.getfixturevalue("world")
    limiter.reset()
    yield


# --- the crawler --------------------------------------------------------------------


class _Links(HTMLParser):
    """Every href (of a, area, link) and every hx-get in a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.hx_gets: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in ("a", "area", "link") and values.get("href"):
            self.hrefs.append(values["href"])
        if values.get("hx-get") is not None:
            self.hx_gets.append(values["hx-get"] or "")


@dataclass
class Crawl:
    who: str
    pages: int = 0
    fragments: int = 0
    exports: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)
    unmasked_exports: set[str] = field(default_factory=set)
    masked_pages: int = 0


def _normalise(base: str, raw: str) -> str | None:
    """The same-origin path?query a link leads to, or None when it is not crawled."""
    raw = raw.strip()
    if not raw or raw.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    parts = urlsplit(urljoin(f"http://localhost{base}", raw))
    if parts.scheme not in ("http", "https") or parts.netloc != "localhost":
        return None
    path = parts.path or "/"
    if path.startswith("/static/") or path == "/logout":
        return None
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    for key, value in query:
        if key == "page" and (not value.isdigit() or int(value) > MAX_PAGER):
            return None
    return path + ("?" + urlencode(query) if query else "")


def _check(crawl: Crawl, url: str, resp, htmx: bool, known: dict[str, str], via: str) -> None:
    label = f"{crawl.who} GET {url}{' (htmx)' if htmx else ''} -> {resp.status_code} (from {via})"
    fail = crawl.failures.append
    if resp.status_code >= 500:
        fail(f"{label}: server error")
    headers = resp.headers
    for value in headers.getlist("Set-Cookie"):
        crawl.secrets.add(value.split(";", 1)[0].split("=", 1)[-1])
    if headers.get("X-Content-Type-Options") != "nosniff":
        fail(f"{label}: no X-Content-Type-Options: nosniff")
    if resp.mimetype == "text/html":
        csp = headers.get("Content-Security-Policy", "")
        for part in (
            "default-src 'self'",
            "script-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ):
            if part not in csp:
                fail(f"{label}: Content-Security-Policy lacks {part!r}: {csp!r}")
        if headers.get("X-Frame-Options") != "DENY":
            fail(f"{label}: X-Frame-Options {headers.get('X-Frame-Options')!r}")
        if headers.get("Referrer-Policy") not in (
            "same-origin",
            "no-referrer",
            "strict-origin-when-cross-origin",
        ):
            fail(f"{label}: Referrer-Policy {headers.get('Referrer-Policy')!r}")
        if "HX-Request" not in headers.get("Vary", ""):
            fail(f"{label}: no Vary: HX-Request")
    if crawl.who != ANON and "no-store" not in headers.get("Cache-Control", ""):
        fail(f"{label}: Cache-Control {headers.get('Cache-Control')!r} behind login")
    text = body_text(resp)
    for token in re.findall(r'name="csrf[-_]token"[^>]*(?:content|value)="([^"]+)"', text):
        crawl.secrets.add(token)
    shown = (
        scan(text, known)
        + [
            f"{hit} in the header {name}"
            for name, value in headers.items()
            for hit in scan(value, known)
        ]
        + [f"{hit} in the URL" for hit in scan(url, known)]
    )
    crawl.masked_pages += any(masked in text for masked in MASKED_IDS)
    path = urlsplit(url).path
    if shown and crawl.who == "police" and LEDGER_EXPORT.match(path):
        crawl.unmasked_exports.add(path)  # the police's own register: full numbers expected
    elif shown:
        fail(f"{label}: shows {', '.join(sorted(set(shown)))}")


def _login(app, username: str | None):
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["locale"] = "en"
    if username:
        token = csrf_from(client.get("/login").get_data(as_text=True))
        resp = client.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
        )
        assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    return client


def crawl(app, who: str, username: str | None, starts: list[str]) -> Crawl:
    """Breadth first from `starts`: pages (and hx-get URLs, also as htmx fragments)
    up to MAX_PAGES requests."""
    result = Crawl(who)
    client = _login(app, username)
    known = personal_numbers()
    queue: deque[tuple[str, bool]] = deque((url, False) for url in starts)
    seen: set[tuple[str, bool]] = set(queue)
    came_from = {url: "the start" for url in starts}
    variants: dict[str, int] = {}
    shapes: dict[tuple[str, bool], set[str]] = {}

    def push(url: str | None, htmx: bool, via: str) -> None:
        if url is None or (url, htmx) in seen:
            return
        path, _, query = url.partition("?")
        same_shape = shapes.setdefault((re.sub(r"/\d+", "/<n>", path), htmx), set())
        if path not in same_shape:
            if len(same_shape) >= MAX_PER_SHAPE:
                return
            same_shape.add(path)
        if query and not htmx:
            if variants.get(path, 0) >= MAX_VARIANTS:
                return
            variants[path] = variants.get(path, 0) + 1
        seen.add((url, htmx))
        came_from.setdefault(url, via)
        queue.append((url, htmx))

    while queue and result.pages < MAX_PAGES:
        url, htmx = queue.popleft()
        resp = client.get(url, headers={"HX-Request": "true"} if htmx else None)
        result.pages += 1
        if os.environ.get("CRAWL_TRACE"):
            print(f"  {who} {'hx ' if htmx else ''}{url} {resp.status_code} <- {came_from[url]}")
        result.fragments += htmx
        if urlsplit(url).path.endswith((".csv", ".xlsx")) or resp.mimetype != "text/html":
            result.exports.append(url)
        _check(result, url, resp, htmx, known, came_from[url])
        if resp.status_code in (301, 302, 303, 307, 308):
            push(_normalise(url, resp.headers.get("Location", "")), False, url)
        elif resp.mimetype == "text/html":
            links = _Links()
            links.feed(resp.get_data(as_text=True))
            for href in links.hrefs:
                push(_normalise(url, href), False, url)
            for target in links.hx_gets:
                # An hx-get with no value asks for the page's own URL.
                push(_normalise(url, target or url), False, url)
                push(_normalise(url, target or url), True, url)
        resp.close()
    return result


# --- the sweep ----------------------------------------------------------------------


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def app_logs():
    """Every record of the root, `community` and werkzeug loggers at DEBUG, formatted
    with its arguments (and traceback)."""
    handler = _Records()
    loggers = [logging.getLogger(), logging.getLogger("community"), logging.getLogger("werkzeug")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    loggers[0].addHandler(handler)
    # `community` and werkzeug propagate to the root; one that does not is heard directly.
    extra = [logger for logger in loggers[1:] if not logger.propagate]
    for logger in extra:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        for logger in [loggers[0], *extra]:
            logger.removeHandler(handler)


@pytest.mark.parametrize("who", [ANON, *ROLES])
def test_crawl_shows_no_personal_data_and_no_server_error(
    app, world, who, app_logs, record_property
):
    started = time.perf_counter()
    starts = ["/"]
    if who == ANON:
        # The public pages behind a door's QR code are reached from the poster, which
        # needs a login: start there too.
        starts += [f"/plaque/{world['token']}", f"/declare/{world['token']}", "/declare/status"]
    result = crawl(app, who, world["users"].get(who), starts)
    print(
        f"\ncrawl {who}: {result.pages} requests ({result.fragments} as htmx fragments, "
        f"{len(result.exports)} exports, {result.masked_pages} with masked ID numbers) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    record_property("pages", result.pages)
    failures = result.failures
    assert not failures, "\n".join(failures)
    assert result.pages >= MIN_PAGES[who], f"{who} reached only {result.pages} pages"
    if who in SEES_RESIDENTS:
        assert result.masked_pages, f"{who} met none of the seeded residents"
    if who == "police":
        # The control: the police's register export does carry the full numbers,
        # so the scanner sees what it looks for in an export.
        assert result.unmasked_exports, "the police reached no ledger export"

    leaks = log_leaks(app_logs.lines, result.secrets)
    assert not leaks, f"log records of the {who} crawl:\n" + "\n".join(leaks)


def log_leaks(lines: list[str], seen: set[str]) -> list[str]:
    """The formatted records holding a seeded number (full or masked), the password,
    or one of `seen` (session cookies and CSRF tokens the crawl was given)."""
    secrets = set(personal_numbers())
    secrets |= {mask_id_number(n) for n in [*IDS, IMPORT_ID, IMPORT_TYPO]}
    secrets |= {mask_phone(p) for p in [*PHONES, *STAFF_PHONES.values(), IMPORT_PHONE]}
    secrets |= {PASSWORD} | {s for s in seen if len(s) >= 8}
    return sorted(
        {f"{secret!r} in {line[:200]!r}" for line in lines for secret in secrets if secret in line}
    )


def test_the_log_watch_hears_the_app_and_sees_a_number(app_logs):
    """The log check can fail: a DEBUG record of `community` with a masked ID number
    in its arguments, and a werkzeug record with a cookie value, are both caught."""
    logging.getLogger("community.residents").debug("looked up %s", mask_id_number(IDS[4]))
    logging.getLogger("werkzeug").info("cookie %s", "session-value-123")
    logging.getLogger("community").info("nothing personal: %s", "138****5678")
    leaks = log_leaks(app_logs.lines, {"session-value-123"})
    assert len(leaks) == 2, leaks


def test_the_refused_rows_of_an_import_show_the_number_masked(app, world):
    """The import's error file (not linked from a page the crawl reaches) names the
    mistyped number masked."""
    job_id, status, imported, refused = world["job"]
    assert (status, imported, refused) == ("done", 1, 1)
    client = _login(app, world["users"]["landlord"])
    resp = client.get(f"/residents/import/{job_id}/errors.csv")
    text = body_text(resp)
    assert resp.status_code == 200 and mask_id_number(IMPORT_TYPO) in text, text[:300]
    assert not scan(text)
    assert "no-store" in resp.headers.get("Cache-Control", "")


def test_only_the_police_reveal_shows_the_full_numbers(app, world):
    """The one place a page shows a full number: the police's reveal (a POST, so the
    crawl never makes it); anyone else asking gets no number."""
    residence_id, number, phone = world["revealed"]
    for who, shows in (("police", True), ("landlord", False), ("volunteer", False)):
        client = _login(app, world["users"][who])
        token = csrf_from(client.get("/").get_data(as_text=True))
        resp = client.post(
            f"/residents/{residence_id}/reveal",
            data={"csrf_token": token},
            headers={"HX-Request": "true"},
        )
        text = body_text(resp)
        assert resp.status_code == 200 if shows else 400 <= resp.status_code < 500, who
        assert (number in text and phone in text) is shows, (who, resp.status_code)
        assert "no-store" in resp.headers.get("Cache-Control", ""), who
