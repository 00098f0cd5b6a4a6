"""A landlord's buildings and rooms: added and edited in place with JavaScript, by
plain POST and redirect without; the outcome is the same. The building page fits
a phone."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.helpers import marker_survived, set_marker

pytestmark = pytest.mark.browser

ROWS = "#rooms tbody tr[id^='room-']"


def open_site(page: Page, live_server, site) -> str:
    """Find the site in the /sites/ list (filtered by its name) and follow its link."""
    page.goto(f"/sites/?q={quote(site.name)}")
    page.locator("#site-results a", has_text=site.name).click()
    url = f"{live_server.url}/sites/{site.id}"
    page.wait_for_url(url)
    return url


def fill_room(page: Page, number: str, beds: int, occupants: int) -> None:
    form = page.locator("#room-form")
    form.locator("input[name=number]").fill(number)
    form.locator("input[name=beds]").fill(str(beds))
    form.locator("input[name=occupants]").fill(str(occupants))
    form.locator("button[type=submit]").click()


def test_add_building_then_room_appears_in_place(page, live_server, login_as, new_site, js):
    site = new_site()
    login_as(page, "landlord")
    site_url = open_site(page, live_server, site)

    # A new building on the site page, in place (JS) or after the redirect (no JS).
    set_marker(page, js)
    page.locator("#building-form input[name=name]").fill("新楼")
    page.locator("#building-form button[type=submit]").click()
    link = page.locator("#buildings tbody a", has_text="新楼")
    expect(link).to_be_visible()
    expect(page.locator("#building-form input[name=name]")).to_have_value("")
    assert page.url == site_url
    if js:
        assert marker_survived(page), "adding a building reloaded the page"

    link.click()
    page.wait_for_url(re.compile(r"/buildings/\d+$"))
    url = page.url
    expect(page.locator(ROWS)).to_have_count(0)
    set_marker(page, js)

    fill_room(page, "301", beds=2, occupants=3)

    row = page.locator(ROWS, has_text="301")
    expect(row).to_be_visible()
    expect(row.locator("td").nth(1)).to_have_text("2")
    expect(row.locator("td").nth(2)).to_contain_text("3")
    expect(row.locator("[data-badge=over-capacity]")).to_be_visible()
    expect(page.locator(ROWS)).to_have_count(1)
    assert page.url == url
    if js:
        assert marker_survived(page), "adding a room reloaded the page"
    else:
        expect(page.locator("#flashes .flash-success")).to_be_visible()
    # The form is fresh again, ready for the next room.
    expect(page.locator("#room-form input[name=number]")).to_have_value("")


def test_edit_room_in_place(page, live_server, login_as, new_site, js):
    site = new_site(rooms=(("101", 2, 1),))
    login_as(page, "landlord")
    url = f"{live_server.url}/buildings/{site.building_id}"
    page.goto(url)
    row = page.locator(ROWS, has_text="101")
    expect(row.locator("[data-badge=over-capacity]")).to_have_count(0)
    row_id = row.get_attribute("id")
    room_id = row_id.removeprefix("room-")
    set_marker(page, js)

    row.locator("a[href$='/edit']").click()
    if js:
        expect(page.locator(f"#{row_id}.editing")).to_be_visible()
        assert page.url == url
    else:
        page.wait_for_url(f"{live_server.url}/rooms/{room_id}/edit")
    occupants = page.locator(f"#room-form-{room_id}-occupants")
    expect(occupants).to_have_value("1")
    occupants.fill("4")
    page.locator(f"#room-form-{room_id} button[type=submit]").click()

    row = page.locator(f"#{row_id}")
    expect(row).not_to_have_class(re.compile(r"\bediting\b"))
    expect(row.locator("td").nth(2)).to_contain_text("4")
    expect(row.locator("[data-badge=over-capacity]")).to_be_visible()
    expect(page.locator(ROWS)).to_have_count(1)
    assert page.url == url
    if js:
        assert marker_survived(page), "editing a room reloaded the page"
    else:
        expect(page.locator("#flashes .flash-success")).to_be_visible()


def test_duplicate_room_number_shows_error_and_adds_nothing(
    page, live_server, login_as, new_site, js
):
    site = new_site(rooms=(("101", 1, 1),))
    login_as(page, "landlord")
    url = f"{live_server.url}/buildings/{site.building_id}"
    page.goto(url)
    expect(page.locator(ROWS)).to_have_count(1)
    set_marker(page, js)

    fill_room(page, "101", beds=2, occupants=2)

    error = page.locator("#room-form #number-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(re.compile(r"\S"))
    number = page.locator("#room-form input[name=number]")
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(number).to_have_attribute("aria-describedby", "number-error")
    expect(number).to_have_value("101")
    expect(page.locator(ROWS)).to_have_count(1)
    if js:
        assert marker_survived(page), "the refused room reloaded the page"
        assert page.url == url


def test_building_page_fits_phone_width(make_page, live_server, login_as, new_site):
    site = new_site(rooms=(("101", 2, 5), ("102", 1, 0), ("2015-北", 12, 12)))
    page = make_page(js=True, viewport=PHONE)
    login_as(page, "landlord")
    page.goto(f"/buildings/{site.building_id}")
    expect(page.locator(ROWS)).to_have_count(3)

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the building page is {width}px wide on a 360px phone"

    # The row being edited in place (inputs in the cells) does not widen the page either.
    page.locator(f"{ROWS} a[href$='/edit']").first.click()
    expect(page.locator(f"{ROWS}.editing")).to_have_count(1)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"editing a room makes the page {width}px wide"
