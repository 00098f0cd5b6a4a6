"""Two journeys on a 360 px phone, each with and without JavaScript, same outcome:
a landlord reports a resident step by step (site -> building -> room and details:
one form, one submit button, unique ids after every step), and a tenant goes from
the house's QR poster to the declaration and its status page (no login)."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from community.core.timeutil import today
from tests.browser.conftest import PHONE
from tests.factories.residents import id_number

pytestmark = pytest.mark.browser

_serial = itertools.count(900)


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _one_report_form(page: Page) -> None:
    """What the landlord sees after every step: one details form with one submit
    button, one picker, and no id used twice on the page."""
    expect(page.locator("form#report-form")).to_have_count(1)
    expect(page.locator("#room-picker")).to_have_count(1)
    expect(page.locator("input[name=id_number]")).to_have_count(1)
    expect(page.locator("#report-form button[type=submit]")).to_have_count(1)
    expect(page.locator("button[type=submit]", has_text="提交登记")).to_have_count(1)
    ids = page.evaluate("Array.from(document.querySelectorAll('[id]'), e => e.id)")
    assert not {i for i in ids if ids.count(i) > 1}, ids
    _fits(page)


def _step(page: Page, js: bool, select: str, value: int, then: str) -> None:
    """Choose in the picker: htmx swaps the picker in place; without JavaScript the
    step button (下一步) reloads the page with the choice."""
    page.locator(select).select_option(str(value))
    if not js:
        next_step = page.locator("#pick button[type=submit]")
        expect(next_step).to_have_text("下一步")
        with page.expect_navigation():
            next_step.click()
    expect(page.locator(then)).to_be_visible()


def test_landlord_reports_a_resident_step_by_step(make_page, login_as, live_server, new_site, js):
    site = new_site(rooms=(("101", 2, 1), ("102", 2, 0)))
    page = make_page(js=js, viewport=PHONE)
    login_as(page, "landlord")
    page.goto("/residents/new")
    expect(page.locator("h1")).to_have_text("登记居民")
    expect(page.locator("#pick button[type=submit]")).to_have_text("下一步")
    _one_report_form(page)

    _step(page, js, "select#site_id", site.id, "select#building_id")
    _one_report_form(page)
    expect(page.locator("select#site_id option:checked")).to_have_text(site.name)

    _step(page, js, "select#building_id", site.building_id, "select#room_id")
    _one_report_form(page)
    expect(page.locator("select#building_id option:checked")).to_have_text(site.building_name)
    expect(page.locator("select#room_id option")).to_have_text(["101", "102"])

    page.locator("select#room_id").select_option(label="102")
    form = page.locator("form#report-form")
    name = f"步骤住户{next(_serial)}"
    number = id_number(serial=next(_serial))
    form.locator("input[name=id_number]").fill(number)
    form.locator("input[name=phone]").fill("13912345678")
    form.locator("input[name=move_in]").fill((today() - timedelta(days=1)).isoformat())
    # Without a name the form comes back (422) once, with the room still chosen.
    form.locator("button[type=submit]").click()
    expect(page.locator("#name-error")).to_be_visible()
    _one_report_form(page)
    expect(page.locator("select#room_id option:checked")).to_have_text("102")
    page.locator("form#report-form input[name=name]").fill(name)
    page.locator("form#report-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/residents/\d+$"))
    # The residence's whole page (header and all), not the card alone.
    expect(page.locator("#main")).to_have_count(1)
    expect(page).to_have_title(re.compile(name))
    expect(page.locator("h1")).to_have_text(name)
    expect(page.locator(".flash", has_text="居民已登记，等待民警核实。")).to_be_visible()
    card = page.locator(".residence-card")
    expect(card.locator("[data-status=pending]")).to_be_visible()
    expect(card).to_contain_text(f"{site.name} · {site.building_name} 102")
    expect(card.locator("[data-masked=id]")).not_to_have_text(number)
    _fits(page)


def test_tenant_declares_from_the_poster_and_sees_the_status(
    make_page, login_as, live_server, new_site, js
):
    site = new_site(rooms=(("201", 2, 1), ("202", 2, 0)))
    # The landlord prints the poster; its declaration code carries this address.
    landlord = make_page(js=js, viewport=PHONE)
    login_as(landlord, "landlord")
    landlord.goto(f"/sites/{site.id}/poster")
    poster = landlord.locator("#poster")
    expect(poster.locator("h1")).to_have_text(site.name)
    code = poster.locator("figure", has_text="新居民扫码登记")
    expect(code.locator("svg")).to_be_visible()
    declare_url = code.locator(".poster-url a").get_attribute("href")
    assert declare_url == f"{live_server.url}/declare/{site.qr_token}"

    # The tenant scans it: no account, a phone, the form of that house.
    page = make_page(js=js, viewport=PHONE)
    page.goto(declare_url)
    assert page.url == declare_url
    expect(page.locator("h1")).to_have_text("居住登记")
    expect(page.locator("hgroup p")).to_contain_text(site.name)
    expect(page.locator("main")).to_contain_text("无需注册账号")
    expect(page.locator("[data-testid=logout]")).to_have_count(0)
    rooms = page.locator("#declare select[name=room_id] option")
    expect(rooms).to_have_text(
        ["选择您的房间", f"{site.building_name} 201", f"{site.building_name} 202"]
    )
    _fits(page)
    number = id_number(serial=next(_serial))
    form = page.locator("#declare form")
    form.locator("select[name=room_id]").select_option(label=f"{site.building_name} 201")
    form.locator("input[name=name]").fill("扫码租客")
    form.locator("input[name=id_number]").fill(number)
    form.locator("input[name=phone]").fill("13712345678")
    form.locator("input[name=move_in]").fill(today().isoformat())
    form.locator("input[name=consent]").check()
    form.locator("button[type=submit]").click()

    # The status page: the reference to keep, the address, 待核实; nothing personal.
    page.wait_for_url(re.compile(r".*/declare/status\?ref=\w+$"))
    expect(page.locator("h1")).to_have_text("登记办理状态")
    expect(page.locator(".flash", has_text="登记已提交，请保存登记编号。")).to_be_visible()
    status = page.locator("#declaration-status")
    expect(status).to_have_attribute("data-status", "pending")
    expect(status.locator("dd").nth(1)).to_have_text("待核实")
    expect(status).to_contain_text(f"{site.name} · {site.building_name} 201")
    reference = status.locator("[data-testid=reference]").inner_text()
    assert len(reference) == 10 and reference in page.url
    _fits(page)
    for secret in ("扫码租客", number, number[-4:], "13712345678", "5678"):
        assert secret not in page.content()

    # Later, with only the reference number: the same status.
    later = make_page(js=js, viewport=PHONE)
    later.goto(declare_url)
    later.locator("a", has_text="凭登记编号查询办理状态").click()
    later.wait_for_url(re.compile(r".*/declare/status$"))
    later.locator("input[name=ref]").fill(reference)
    later.locator("main form button[type=submit]").click()
    expect(later.locator("#declaration-status dd").nth(1)).to_have_text("待核实")
    expect(later.locator("[data-testid=reference]")).to_have_text(reference)
    _fits(later)


def test_landlord_corrects_only_the_move_in_date_of_a_report_sent_back(
    make_page, login_as, live_server, new_site, js
):
    from sqlalchemy import select

    from community.accounts.models import User
    from community.extensions import db
    from community.places.models import Building, Room
    from community.residents import queries, services

    site = new_site(rooms=(("401", 2, 1),))
    number = id_number(serial=next(_serial))
    with live_server.app.app_context():
        landlord = db.session.scalar(select(User).where(User.username == "landlord"))
        police = db.session.scalar(select(User).where(User.username == "police"))
        room_id = db.session.scalar(
            select(Room.id).join(Building).where(Building.site_id == site.id)
        )
        residence = services.report_residence(
            db.session,
            landlord,
            queries.get_room(db.session, room_id),
            name="入住日期租客",
            id_number=number,
            phone="13812345678",
            move_in=today() - timedelta(days=1),
            channel="landlord",
        )
        services.reject_residence(db.session, police, residence, "入住日期有误")
        db.session.commit()
        residence_id = residence.id
        db.session.remove()

    page = make_page(js=js, viewport=PHONE)
    login_as(page, "landlord")
    page.goto(f"/residents/{residence_id}")
    form = page.locator("form#resubmit")
    expect(form.locator("[data-testid=rejected-reason]")).to_contain_text("入住日期有误")
    # What was stored is there: the name as typed, the ID number and phone masked.
    expect(form.locator("input[name=name]")).to_have_value("入住日期租客")
    masked = f"{number[:6]}********{number[-4:]}"
    expect(form.locator("input[name=id_number]")).to_have_value("")
    expect(form.locator("input[name=id_number]")).to_have_attribute("placeholder", masked)
    expect(form).to_contain_text(f"已登记为 {masked}。无需修改请留空")
    expect(form.locator("input[name=phone]")).to_have_attribute("placeholder", "138****5678")
    assert number not in page.content() and "13812345678" not in page.content()
    _fits(page)
    corrected = (today() - timedelta(days=2)).isoformat()
    form.locator("input[name=move_in]").fill(corrected)
    form.locator("button[type=submit]").click()
    card = page.locator(f"#residence-card-{residence_id}")
    expect(card.locator("[data-status=pending]")).to_be_visible()
    expect(card).to_contain_text(corrected)
    expect(card.locator("[data-masked=id]")).to_have_text(masked)
    expect(card.locator("[data-masked=phone]")).to_have_text("138****5678")
    expect(page.locator("form#resubmit")).to_have_count(0)
