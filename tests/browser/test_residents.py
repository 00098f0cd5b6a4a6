"""A tenant self-declares on a phone through the house's QR address, and the police
verify a registration in place — each with and without JavaScript, same outcome."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from community.core.timeutil import today as local_today
from community.extensions import db
from tests.browser.conftest import PHONE
from tests.browser.helpers import marker_survived, set_marker
from tests.factories.residents import id_number

pytestmark = pytest.mark.browser

_serial = itertools.count(700)


def test_self_declaration_on_a_phone(make_page, new_site, js):
    site = new_site(rooms=(("101", 2, 1), ("102", 2, 0)))
    page = make_page(js=js, viewport=PHONE)
    page.goto(f"/declare/{site.qr_token}")
    expect(page.locator("h1")).to_have_text("居住登记")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    number = id_number(serial=next(_serial))
    form = page.locator("#declare form")
    form.locator("select[name=room_id]").select_option(label=f"{site.building_name} 102")
    form.locator("input[name=name]").fill("浏览器租客")
    form.locator("input[name=id_number]").fill(number)
    form.locator("input[name=phone]").fill("13912345678")
    form.locator("input[name=move_in]").fill(local_today().isoformat())
    # Without consent the form comes back with the reason on the checkbox.
    form.locator("button[type=submit]").click()
    expect(page.locator("#declare small.error")).to_have_text("登记需要您的同意。")
    page.locator("#declare input[name=consent]").check()
    page.locator("#declare button[type=submit]").click()
    status = page.locator("#declaration-status")
    expect(status).to_be_visible()
    expect(status).to_contain_text("待核实")
    expect(status).to_contain_text(f"{site.building_name} 102")
    content = page.content()
    for secret in ("浏览器租客", number, number[-4:], "13912345678"):
        assert secret not in content
    assert "ref=" in page.url and number not in page.url


def test_police_verify_in_place(make_page, live_server, login_as, new_site, js):
    from community.accounts.models import User
    from community.residents import queries, services

    site = new_site(rooms=(("201", 2, 1),))
    name = f"待核实{next(_serial)}"
    with live_server.app.app_context():
        landlord = db.session.scalar(select(User).where(User.username == "landlord"))
        room = queries.site_rooms(db.session, _site(site.id))[0]
        services.report_residence(
            db.session,
            landlord,
            room,
            name=name,
            id_number=id_number(serial=next(_serial)),
            phone="13812345678",
            move_in=local_today() - timedelta(days=1),
            channel="landlord",
        )
        db.session.commit()
        db.session.remove()
    page = make_page(js=js, viewport=PHONE)
    login_as(page, "police")
    page.goto(f"/residents/?q={name}")
    row = page.locator("#residence-list tbody tr", has_text=name)
    expect(row).to_have_count(1)
    set_marker(page, js)
    row.locator("button", has_text="通过").click()
    if js:
        expect(row.locator("[data-status=verified]")).to_be_visible()
        assert marker_survived(page), "verifying reloaded the page"
    else:
        page.wait_for_url(f"{live_server.url}/residents/")
        expect(page.locator(".flash", has_text="登记已通过")).to_be_visible()
        page.goto(f"/residents/?status=verified&q={name}")
        expect(page.locator("#residence-list tbody tr", has_text=name)).to_have_count(1)


def _site(site_id):
    from community.places.models import Site

    return db.session.get(Site, site_id)
