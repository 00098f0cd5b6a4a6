"""The header and its navigation. On a 360 px phone it is one line: the app name,
the person's few most used destinations, the bell (an SVG icon named with the
unread count) and a menu (<details>: no JavaScript needed) holding every entry,
the account and the language. Wide screens show every entry in the bar. hx-boost:
links swap the page without a full load when JavaScript runs."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from community.accounts.models import User
from community.core.nav import nav_items
from community.extensions import db
from community.notifications.services import unread_count
from tests.browser.conftest import PHONE
from tests.browser.helpers import marker_survived, set_marker
from tests.factories.notifications import make_notice

pytestmark = pytest.mark.browser

HEADER_MAX = 64  # px: the header's height on a phone

# Each demo role's destinations in its header bar, one tap away (in the bar's order).
PRIMARY = {
    "police": ["/reviews/", "/sites/", "/residents/"],
    "coordinator": ["/reviews/", "/residents/", "/duties/"],
    "association": ["/reviews/", "/hazards/", "/associations/"],
    "landlord": ["/sites/", "/residents/", "/hazards/"],
    "property": ["/sites/", "/residents/", "/hazards/"],
    "enterprise": ["/residents/", "/hazards/", "/outreach/requests/"],
    "volunteer": ["/hazards/", "/duties/", "/duties/mine"],
    "admin": ["/reviews/", "/residents/", "/duties/"],
}


def every_entry(live_server, username: str) -> list[str]:
    """The hrefs of every navigation entry the user may see (the registry's answer)."""
    with live_server.app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == username))
        hrefs = [item.href for item in nav_items(user)]
        db.session.remove()
    return hrefs


def add_unread_notice(live_server, username: str) -> int:
    """One more unread notice for the user; their unread count."""
    with live_server.app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        make_notice(db.session, user=user, link="/notifications/")
        db.session.commit()
        count = unread_count(db.session, user.id)
        db.session.remove()
    return count


def bar_controls(page: Page) -> list:
    header = page.locator(".site-header")
    return [
        header.locator(".brand"),
        *header.locator(".nav-primary a").all(),
        header.get_by_test_id("bell"),
        header.locator(".nav-menu > summary"),
    ]


@pytest.mark.parametrize("username", list(PRIMARY))
def test_phone_header_is_one_line_with_the_bell_and_a_menu_of_every_entry(
    make_page, live_server, login_as, username
):
    unread = add_unread_notice(live_server, username)
    page = make_page(js=True, viewport=PHONE)
    login_as(page, username)
    header = page.locator(".site-header")
    bell = header.get_by_test_id("bell")
    expect(bell.get_by_test_id("bell-count")).to_have_text(str(unread) if unread <= 99 else "99+")

    # One line of at most 64 px, nothing past the screen's edge.
    box = header.bounding_box()
    assert box["height"] <= HEADER_MAX, f"{username}: the header is {box['height']}px high"
    boxes = [control.bounding_box() for control in bar_controls(page)]
    assert max(b["y"] for b in boxes) < min(b["y"] + b["height"] for b in boxes), (
        f"{username}: the header's controls are on more than one line"
    )
    for b in boxes:
        assert box["y"] <= b["y"] and b["y"] + b["height"] <= box["y"] + box["height"]
        assert b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # The role's most used destinations, one tap away.
    primary = header.locator(".nav-primary a")
    assert [a.get_attribute("href") for a in primary.all()] == PRIMARY[username]
    for link in primary.all():
        expect(link).to_be_visible()

    # The bell: an SVG icon (no emoji), named with the unread count.
    expect(bell.locator("svg")).to_be_visible()
    expect(bell).to_have_accessible_name(re.compile(rf"\D{unread}\D"))
    assert "\N{BELL}" not in header.inner_text()

    # The menu: closed, and opened it lists every entry, the account and the language.
    panel = header.locator(".nav-panel")
    expect(panel).to_be_hidden()
    summary = header.locator(".nav-menu > summary")
    expect(summary).to_have_accessible_name(re.compile(r"\S"))
    summary.click()
    expect(panel).to_be_visible()
    links = panel.locator(".nav-links a")
    assert [a.get_attribute("href") for a in links.all()] == every_entry(live_server, username)
    for link in links.all():
        expect(link).to_be_visible()
        b = link.bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"]
    expect(panel.get_by_test_id("logout")).to_be_visible()
    expect(panel.locator(".lang-form button")).to_be_visible()


def test_phone_menu_works_without_javascript_and_with_boost(make_page, live_server, login_as, js):
    page = make_page(js=js, viewport=PHONE)
    login_as(page, "police")
    bell = page.get_by_test_id("bell")
    expect(bell.locator("svg")).to_be_visible()
    expect(bell).to_have_accessible_name(re.compile(r"\S"))
    set_marker(page, js)
    summary = page.locator(".site-header .nav-menu > summary")
    panel = page.locator(".site-header .nav-panel")
    if js:
        # Escape, or a tap beside it, closes the menu.
        summary.click()
        expect(panel).to_be_visible()
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        expect(summary).to_be_focused()
        summary.click()
        page.mouse.click(3, 400)  # the panel leaves a margin at the screen's edge
        expect(panel).to_be_hidden()

    summary.click()
    page.locator(".site-header .nav-panel a[href='/inspections/due']").click()
    page.wait_for_url(live_server.url + "/inspections/due")

    # The new page: its entry marked current, the menu closed again.
    expect(page.locator(".site-header .nav-panel")).to_be_hidden()
    expect(page.locator(".nav-links a[href='/inspections/due']")).to_have_attribute(
        "aria-current", "page"
    )
    if js:
        assert marker_survived(page), "a menu link caused a full page load"

    # A destination of the bar is one tap.
    page.locator(".site-header .nav-primary a[href='/residents/']").click()
    page.wait_for_url(live_server.url + "/residents/")
    expect(page.locator(".nav-primary a[href='/residents/']")).to_have_attribute(
        "aria-current", "page"
    )


def test_wide_screen_shows_every_entry_once_in_the_bar(make_page, live_server, login_as):
    page = make_page(js=False, viewport={"width": 1280, "height": 800})
    login_as(page, "police")
    header = page.locator(".site-header")
    expect(header.locator(".nav-menu > summary")).to_be_hidden()
    shown = [
        a.get_attribute("href")
        for a in header.locator(".nav-primary a, .nav-links a").all()
        if a.is_visible()
    ]
    assert sorted(shown) == sorted(every_entry(live_server, "police"))
    expect(header.get_by_test_id("logout")).to_be_visible()


def test_nav_link_changes_page_and_boosts_with_js(page, live_server, login_as, js):
    login_as(page, "admin")
    expect(page.locator("#org-form")).to_have_count(0)
    set_marker(page, js)

    page.locator(".site-header .nav-links a[href='/admin/orgs']").click()
    page.wait_for_url(live_server.url + "/admin/orgs")

    expect(page.locator("#org-form")).to_be_visible()
    expect(page.locator(".nav-links a[href='/admin/orgs']")).to_have_attribute(
        "aria-current", "page"
    )
    if js:
        assert marker_survived(page), "boosted link caused a full page load"
