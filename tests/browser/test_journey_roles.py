"""Two roles' main journeys on a 360 px phone, each once with and once without
JavaScript, asserting what the person sees at each step (issue 15):

- the association officer: a membership application's notice -> the application in
  the review queue -> approved -> their community's compliance figures (read-only);
- the police liaison: start page -> review queue -> one registration approved, one
  sent back with a reason -> a resident's full ID revealed (the audit log shows it
  by its translated name) -> a building's ledger exported -> the dashboard.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from community.extensions import db
from tests.browser.conftest import PHONE
from tests.browser.helpers import marker_survived, set_marker
from tests.browser.test_phone import accessibility_faults
from tests.factories.residents import id_number

pytestmark = pytest.mark.browser

_seq = itertools.count(1)
_serial = itertools.count(7100)


def _fits_the_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def _report(live_server, site_id: int, name: str, verified: bool = False) -> tuple[int, str]:
    """A registration reported by the demo landlord at the site's first room, which
    also writes the landlord's points line of this month; pending, or verified by the
    demo police (so it waits in no queue the other tests read)."""
    from community.accounts.models import User
    from community.core.timeutil import today
    from community.places.models import Site
    from community.residents import queries, services

    number = id_number(serial=next(_serial))
    with live_server.app.app_context():
        landlord = db.session.scalar(select(User).where(User.username == "landlord"))
        room = queries.site_rooms(db.session, db.session.get(Site, site_id))[0]
        residence = services.report_residence(
            db.session,
            landlord,
            room,
            name=name,
            id_number=number,
            phone="13812345678",
            move_in=today(),
            channel="landlord",
        )
        if verified:
            police = db.session.scalar(select(User).where(User.username == "police"))
            services.verify_residence(db.session, police, residence)
        db.session.commit()
        residence_id = residence.id
        db.session.remove()
    return residence_id, number


def _residence_status(live_server, residence_id: int) -> tuple[str, str | None]:
    from community.residents.models import Residence

    with live_server.app.app_context():
        residence = db.session.get(Residence, residence_id)
        found = (residence.status, residence.reason)
        db.session.remove()
    return found


# --- the association officer --------------------------------------------------------


@dataclass
class Applicant:
    name: str
    application_id: int


def _applicant(live_server) -> Applicant:
    """A new landlord of 东村社区 applies to 东村房东协会 (its officer is notified)."""
    from community.accounts import services as accounts
    from community.accounts.models import Area, Organization
    from community.places import services as places

    n = next(_seq)
    with live_server.app.app_context():
        area = db.session.scalar(select(Area).where(Area.name == "东村社区"))
        association = db.session.scalar(
            select(Organization).where(Organization.name == "东村房东协会")
        )
        user = accounts.create_user(
            db.session, f"journey-landlord{n}", "journey-password-1", display_name=f"申请房东{n}"
        )
        accounts.add_membership(db.session, None, user, "landlord", None, area)
        application = places.apply_to_association(db.session, user, association, "")
        db.session.commit()
        found = Applicant(user.display_name, application.id)
        db.session.remove()
    return found


def test_association_officer_journey(make_page, live_server, login_as, new_site, js):
    site = new_site(admitted=True, rooms=(("101", 2, 1),))
    _report(live_server, site.id, f"协会旅程{next(_seq)}", verified=True)  # a figure of the month
    applicant = _applicant(live_server)
    page = make_page(js=js, viewport=PHONE)
    login_as(page, "association")
    _fits_the_phone(page)

    # 1. The notice of the application, from the bell.
    page.locator("a[href='/notifications/']").first.click()
    page.wait_for_url(f"{live_server.url}/notifications/")
    # A notice is a small form (following it marks it read: a POST), its button
    # reads as the message.
    notice = page.get_by_role(
        "button", name=f"{applicant.name} 申请加入东村房东协会，请在审核队列中通过或退回。"
    )
    expect(notice).to_be_visible()
    _fits_the_phone(page)

    # 2. The notice opens the application in the review queue.
    notice.click()
    page.wait_for_url(f"{live_server.url}/reviews/?kind=association")
    row = page.locator(f"#review-association-{applicant.application_id}")
    expect(row).to_be_visible()
    expect(row).to_contain_text(f"{applicant.name} → 东村房东协会")
    expect(row.locator(".badge")).to_have_text("房东协会入会申请")
    _fits_the_phone(page)

    # 3. Approved in place (JS) or by a plain form and back to the queue (no JS).
    set_marker(page, js)
    row.get_by_test_id("approve").click()
    if js:
        expect(row).to_have_attribute("data-decided", "approve")
        assert marker_survived(page), "approving reloaded the page"
        expect(page.locator("#toast")).to_contain_text("已通过")
    else:
        page.wait_for_url(f"{live_server.url}/reviews/?kind=association")
        expect(page.locator(".flash", has_text="已通过")).to_be_visible()
        expect(row).to_have_count(0)
    # The landlord is a member now.
    page.goto("/associations/")
    expect(page.locator("main")).to_contain_text(applicant.name)

    # 4. Their community's compliance figures: read-only, no card to issue.
    page.goto("/compliance/")
    expect(page.get_by_role("heading", level=1)).to_have_text("积分与黄牌")
    expect(page.locator("tr[id^='compliance-user-']").first).to_be_visible()
    expect(page.locator("#compliance")).to_contain_text("张房东")
    expect(page.get_by_test_id("read-only")).to_be_visible()
    expect(page.locator("form[action='/compliance/cards']")).to_have_count(0)
    expect(page.get_by_role("button", name="发出黄牌警告")).to_have_count(0)
    expect(page.locator("#community-rates")).to_contain_text("东村社区")
    _fits_the_phone(page)
    if js:
        assert accessibility_faults(page, "/compliance/ (association)") == []


# --- the police liaison ----------------------------------------------------------------


def test_police_journey(make_page, live_server, login_as, new_site, js):
    site = new_site(admitted=True, rooms=(("201", 4, 2),))
    n = next(_seq)
    approve_id, approve_number = _report(live_server, site.id, f"通过旅程{n}")
    reject_id, _ = _report(live_server, site.id, f"退回旅程{n}")
    page = make_page(js=js, viewport=PHONE)
    login_as(page, "police")

    # 1. The start page says what waits, one tap from the queue.
    waiting = page.locator("#start-reviews")
    expect(waiting).to_contain_text("待您审核")
    _fits_the_phone(page)
    waiting.locator("a[data-kind='residence']").click()
    page.wait_for_url(f"{live_server.url}/reviews/?kind=residence")
    _fits_the_phone(page)

    # 2. One registration approved ...
    # Rows name the room, never the resident.
    approved = page.locator(f"#review-residence-{approve_id}")
    expect(approved).to_contain_text(f"{site.name} · {site.building_name} 201")
    expect(approved).not_to_contain_text(f"通过旅程{n}")
    approved.get_by_test_id("approve").click()
    if js:
        expect(approved).to_have_attribute("data-decided", "approve")
        expect(page.locator("#toast")).to_contain_text("已通过")
    else:
        page.wait_for_url(f"{live_server.url}/reviews/?kind=residence")
        expect(page.locator(".flash", has_text="已通过")).to_be_visible()
        expect(approved).to_have_count(0)

    # ... and one sent back with a reason.
    sent_back = page.locator(f"#review-residence-{reject_id}")
    sent_back.locator("summary", has_text="退回").click()
    sent_back.locator("[name=reason]").fill("房间号有误，请核对后重新提交")
    sent_back.get_by_test_id("reject").click()
    if js:
        expect(sent_back).to_have_attribute("data-decided", "reject")
        expect(page.locator("#toast")).to_contain_text("已退回")
    else:
        page.wait_for_url(f"{live_server.url}/reviews/?kind=residence")
        expect(page.locator(".flash", has_text="已退回")).to_be_visible()
        expect(sent_back).to_have_count(0)
    assert _residence_status(live_server, approve_id) == ("verified", None)
    assert _residence_status(live_server, reject_id) == ("rejected", "房间号有误，请核对后重新提交")

    # 3. The resident's full ID number, on an explicit tap.
    page.goto(f"/residents/{approve_id}")
    masked = page.locator("[data-masked=id]")
    expect(masked).to_be_visible()
    assert approve_number not in masked.inner_text()
    page.get_by_role("button", name="查看完整号码").click()
    expect(page.locator("[data-revealed=id]")).to_have_text(approve_number)
    _fits_the_phone(page)

    # The audit log shows that look under its translated name, chosen from a list.
    page.goto("/audit/")
    page.locator("details.filters summary").click()
    page.locator("select[name=action]").select_option(label="查看完整证件号码")
    page.locator("form.audit-filter button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/audit/\?(.*&)?action=residence\.revealed"))
    others = "#event-list td[data-action]:not([data-action='residence.revealed'])"
    expect(page.locator(others)).to_have_count(0)
    first = page.locator("#event-list tbody tr").first
    expect(first.locator("[data-action='residence.revealed']")).to_have_text("查看完整证件号码")
    expect(first).to_contain_text("police")
    expect(page.locator("#event-list th").first).to_have_text("时间（UTC+8）")
    if js:
        assert accessibility_faults(page, "/audit/ (filtered)") == []

    # 4. The building's ledger, exported from the building page.
    page.goto(f"/buildings/{site.building_id}")
    export = page.get_by_test_id("ledger-export")
    expect(export).to_be_visible()
    with page.expect_download() as download:
        export.locator("a[data-format=xlsx]").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    _fits_the_phone(page)

    # 5. The dashboard of the police's areas.
    page.goto("/dashboard/")
    expect(page.locator("#dashboard h1")).to_be_visible()
    expect(page.locator(".dash-headline").first).to_be_visible()
    expect(page.locator("#dash-areas")).to_contain_text("东村社区")
    _fits_the_phone(page)
