"""A new landlord's first day on a 360 px phone, once with and once without
JavaScript, same outcome: the start page offers 登记第一个场所 → the site → a
building → rooms (the residents summary follows) → a resident reported → the
monthly assessment submitted → a hazard reported at their own site."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from community.accounts import services as accounts
from community.accounts.models import Organization
from community.core.timeutil import today
from community.extensions import db
from community.places import services as places
from tests.browser.conftest import PHONE
from tests.browser.helpers import login
from tests.browser.test_phone import accessibility_faults
from tests.factories.residents import id_number

pytestmark = pytest.mark.browser

PASSWORD = "journey-password-1"
_serial = itertools.count(1)


def _fits(page: Page, where: str, js: bool) -> None:
    """Nothing wider than the phone (no sideways scrolling), and no serious or
    critical accessibility fault (axe-core, run where the page runs scripts)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], where
    if js:
        assert accessibility_faults(page, where) == []


def _new_landlord(live_server) -> tuple[str, str]:
    """A landlord of 东村社区 with no site yet, an approved member of 东村房东协会
    (applied and approved through the services, as the pages do)."""
    n = next(_serial)
    with live_server.app.app_context():
        area = accounts.get_area_by_name(db.session, "东村社区")
        user = accounts.create_user(
            db.session, f"newlandlord{n}", PASSWORD, display_name=f"新房东{n}"
        )
        accounts.add_membership(db.session, None, user, "landlord", area=area)
        association = db.session.scalar(
            select(Organization).where(Organization.name == "东村房东协会")
        )
        application = places.apply_to_association(db.session, user, association)
        officer = accounts.get_user_by_username(db.session, "association")
        places.decide_application(db.session, officer, application, "approve")
        db.session.commit()
        username, display = user.username, user.display_name
        db.session.remove()
    return username, display


def _flash(page: Page, js: bool, text: str) -> None:
    """The success message: a toast with JavaScript, a flash after the redirect without."""
    where = "#toast" if js else "#flashes"
    expect(page.locator(where)).to_contain_text(text)


def test_new_landlord_from_first_site_to_hazard(make_page, live_server, js):
    username, display = _new_landlord(live_server)
    page = make_page(js=js, viewport=PHONE)
    login(page, username, PASSWORD)
    assert page.url == live_server.url + "/"

    # 1. The start page says where to begin.
    expect(page.locator("h1")).to_contain_text(display)
    first = page.locator("#start-first-site")
    expect(first.locator("h2")).to_have_text("开始使用")
    expect(first.locator("[data-testid=next-steps] li")).to_have_count(3)  # a member already
    _fits(page, "the start page", js)
    first.locator("[data-testid=first-site]", has_text="登记第一个场所").click()
    page.wait_for_url(f"{live_server.url}/sites/new")

    # 2. The site: the one community and the one association are chosen already.
    expect(page.locator("h1")).to_have_text("登记场所")
    form = page.locator("#site-form")
    expect(form.locator("select[name=area_id] option:checked")).to_contain_text("东村社区")
    expect(form.locator("select[name=association_id] option:checked")).to_contain_text(
        "东村房东协会"
    )
    _fits(page, "the new-site form", js)
    site_name = f"{display}的出租屋"
    form.locator("input[name=name]").fill(site_name)
    form.locator("select[name=kind]").select_option("rental_house")
    form.locator("input[name=address]").fill(f"东村路{next(_serial)}号")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/sites/\d+$"))
    site_url = page.url
    site_id = int(site_url.rsplit("/", 1)[1])
    expect(page.locator("h1")).to_have_text(site_name)
    expect(page.locator("#flashes, #toast").first).to_contain_text("场所已登记")
    # No 双无 yet, and the page says why: the record is new, not an incident.
    reason = page.locator("#panel-incidents [data-testid=shuangwu-reason]")
    expect(reason).to_contain_text("建档不满一年")
    expect(page.locator("#panel-incidents")).not_to_contain_text("有案事件记录")
    expect(page.locator("#buildings")).to_contain_text("请在下方添加第一幢")
    _fits(page, "the new site", js)

    # 3. A building.
    page.locator("#building-form input[name=name]").fill("1号楼")
    page.locator("#building-form button[type=submit]").click()
    building_link = page.locator("#buildings tbody a", has_text="1号楼")
    expect(building_link).to_be_visible()
    _flash(page, js, "楼栋已添加")
    assert page.url == site_url
    building_link.click()
    page.wait_for_url(re.compile(r".*/buildings/\d+$"))
    building_url = page.url
    summary = page.locator("#panel-residents [data-testid=registered]")
    expect(summary).to_have_text("已核实 0 人 / 清点 0 人")

    # 4. Rooms: the residents summary follows each one (no reload needed).
    for number, beds, people, counted in (("101", 2, 2, 2), ("102", 2, 1, 3)):
        room_form = page.locator("#room-form")
        room_form.locator("input[name=number]").fill(number)
        room_form.locator("input[name=beds]").fill(str(beds))
        room_form.locator("input[name=occupants]").fill(str(people))
        room_form.locator("button[type=submit]").click()
        expect(page.locator("#rooms tbody tr[id^='room-']", has_text=number)).to_be_visible()
        expect(summary).to_have_text(f"已核实 0 人 / 清点 {counted} 人")
        _flash(page, js, "房间已添加")
        assert page.url == building_url
    ledger = page.locator("#panel-residents [data-testid=ledger-export]")
    expect(ledger).to_contain_text("导出台账")
    expect(ledger.locator("a")).to_have_count(2)
    _fits(page, "the building with rooms", js)

    # 5. A resident of room 102, through the report form at /residents/new.
    row = page.locator("#panel-residents tr", has_text="102")
    row.locator("a", has_text="登记居民").click()
    page.wait_for_url(re.compile(r".*/residents/new\?room_id=\d+$"))
    expect(page.locator("select#room_id option:checked")).to_have_text("102")
    report = page.locator("form#report-form")
    name = f"新租客{next(_serial)}"
    number = id_number(serial=700 + next(_serial))
    report.locator("input[name=name]").fill(name)
    report.locator("input[name=id_number]").fill(number)
    report.locator("input[name=phone]").fill("13912345678")
    report.locator("input[name=move_in]").fill((today() - timedelta(days=1)).isoformat())
    _fits(page, "the report form", js)
    report.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/residents/\d+$"))
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator(".flash", has_text="居民已登记，等待民警核实。")).to_be_visible()
    card = page.locator(".residence-card")
    expect(card.locator("[data-status=pending]")).to_be_visible()
    expect(card.locator("[data-masked=id]")).not_to_have_text(number)
    _fits(page, "the residence", js)

    # 6. The monthly assessment: listed on the start page, started and submitted.
    page.goto("/")
    expect(page.locator("#start-first-site")).to_have_count(0)
    due = page.locator("#start-assessments [data-testid=assessments-due]")
    due.locator("a", has_text=site_name).click()
    page.wait_for_url(f"{live_server.url}/sites/{site_id}/assessments")
    page.locator("#assessment-start button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/assessments/\d+$"))
    assessment_url = page.url
    card = page.locator("[id^=assessment-]").first
    expect(card).to_contain_text("草稿")
    _fits(page, "the assessment", js)
    card.locator("button[type=submit]", has_text="提交社区民警审核").click()
    expect(page.locator("[id^=assessment-]").first).to_contain_text("待审核")
    _flash(page, js, "评定已提交社区民警审核")
    assert page.url == assessment_url

    # 7. A hazard the landlord found at their own site.
    page.goto(site_url)
    page.locator("#panel-hazards a", has_text="上报隐患").click()
    page.wait_for_url(f"{live_server.url}/sites/{site_id}/hazards/new")
    hazard = page.locator("#hazard-form form")
    hazard.locator("textarea[name=description]").fill("楼道灭火器过期，需要更换")
    hazard.locator("select[name=severity]").select_option("high")
    _fits(page, "the hazard form", js)
    hazard.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/hazards/\d+$"))
    expect(page.locator("main")).to_contain_text("楼道灭火器过期，需要更换")
    expect(page.locator(".flash, #toast", has_text="隐患已上报").first).to_be_visible()
    _fits(page, "the hazard", js)
