"""Logging in and out in a real browser, with and without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import login

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("username", ["admin", "police"])
def test_login_lands_on_home_with_display_name(page, live_server, username):
    login(page, username, live_server.passwords[username])

    assert page.url == live_server.url + "/"
    expect(page.locator("#main h1")).to_contain_text(live_server.display_names[username])


def test_wrong_password_shows_error_and_stays_on_login(page, live_server):
    login(page, "admin", "not-the-password")

    assert page.url.startswith(live_server.url + "/login")
    expect(page.locator("#main .form-errors[role=alert]")).to_be_visible()
    expect(page.locator("[data-testid=logout]")).to_have_count(0)


def test_logout_returns_to_login_and_home_then_needs_login(page, live_server, login_as):
    login_as(page, "coordinator")

    page.get_by_test_id("logout").click()
    page.wait_for_url(live_server.url + "/login")
    expect(page.locator("#flashes .flash-info")).to_be_visible()
    expect(page.locator("[data-testid=logout]")).to_have_count(0)

    page.goto("/")
    assert page.url.startswith(live_server.url + "/login")
    expect(page.locator("input[name=password]")).to_be_visible()
