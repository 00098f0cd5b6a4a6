"""hx-boost: links swap the page without a full load when JavaScript runs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import marker_survived, set_marker

pytestmark = pytest.mark.browser


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
