"""The sites list's live search (htmx partial with the URL following it; without
JavaScript the filter form gives the same results at a shareable URL), and the
public plaque on a phone."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.browser.helpers import marker_survived, set_marker

pytestmark = pytest.mark.browser

ROWS = "#site-results tbody tr[id^='site-']"


def query_of(url: str) -> str | None:
    return parse_qs(urlsplit(url).query).get("q", [None])[0]


def expect_only(page: Page, sites) -> None:
    expect(page.locator(ROWS)).to_have_count(len(sites))
    for site in sites:
        expect(page.locator(f"#site-{site.id}")).to_contain_text(site.name)


def test_site_search_filters_results(page, live_server, login_as, new_site, js):
    tag = secrets.token_hex(3)
    east = new_site(name=f"检索{tag}东楼")
    west = new_site(name=f"检索{tag}西楼")
    login_as(page, "landlord")
    page.goto("/sites/")
    expect(page.locator(ROWS).first).to_be_visible()
    assert page.locator(ROWS).count() > 2  # the demo landlord's sites and these two
    set_marker(page, js)

    search = page.locator("#site-filters input[name=q]")
    search.fill(f"检索{tag}")
    if not js:
        with page.expect_navigation():
            page.locator("#site-filters button[type=submit]").click()
    expect_only(page, [east, west])
    page.wait_for_url(lambda url: query_of(url) == f"检索{tag}")

    # Narrow further: one site left.
    search.fill(f"{tag}西")
    if not js:
        with page.expect_navigation():
            page.locator("#site-filters button[type=submit]").click()
    expect_only(page, [west])
    page.wait_for_url(lambda url: query_of(url) == f"{tag}西")
    expect(search).to_have_value(f"{tag}西")
    if js:
        assert marker_survived(page), "the live search reloaded the page"

    # The address is shareable: opened afresh it shows the same results.
    page.goto(page.url)
    expect_only(page, [west])
    expect(page.locator("#site-filters input[name=q]")).to_have_value(f"{tag}西")


def test_public_plaque_fits_phone(make_page, live_server, login_as, new_site):
    site = new_site(admitted=True)
    # The landlord finds the plaque address on the site's QR poster ...
    landlord = make_page(js=True)
    login_as(landlord, "landlord")
    landlord.goto(f"/sites/{site.id}")
    landlord.locator(f"#main a[href='/sites/{site.id}/poster']").click()
    landlord.wait_for_url(f"{live_server.url}/sites/{site.id}/poster")
    plaque_url = landlord.locator("#poster .poster-url", has_text="/plaque/").inner_text().strip()
    assert plaque_url == f"{live_server.url}/plaque/{site.qr_token}", plaque_url

    # ... and anyone, not logged in, opens it on a phone.
    phone = make_page(js=True, viewport=PHONE)
    phone.goto(plaque_url)
    assert phone.url == plaque_url, "the plaque asked for a login"
    expect(phone.locator("#plaque h1")).to_have_text(site.name)
    expect(phone.locator("#plaque [data-badge=admitted]")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the plaque is {width}px wide on a 360px phone"
