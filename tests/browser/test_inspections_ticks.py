"""An inspector ticks the safety-admission checklist: with JavaScript each tick
updates its row and the summary in place, without it the page comes back through
a redirect with the same summary. Completing decides the site's admission."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import marker_survived, set_marker

pytestmark = pytest.mark.browser

ITEMS = "#main .checklist article.check-item"
STATUS = "#panel-admission [data-testid=admission-status]"
REQUIRED_ITEMS = 8  # the checklist of migration 0002, every item required


def count(page: Page, name: str):
    return page.locator(f"#inspection-summary [data-count={name}]")


def start_inspection(page: Page, live_server, site) -> str:
    page.goto(f"/sites/{site.id}")
    expect(page.locator("#panel-admission")).to_be_visible()
    page.locator(
        f"#panel-admission form[action='/sites/{site.id}/inspections'] button[type=submit]"
    ).click()
    page.wait_for_url(re.compile(re.escape(live_server.url) + r"/inspections/\d+$"))
    expect(page.locator(ITEMS)).to_have_count(REQUIRED_ITEMS)
    expect(count(page, "unanswered")).to_have_text(str(REQUIRED_ITEMS))
    return page.url


def tick(page: Page, js: bool, index: int, result: str) -> None:
    """Answer one item: with JavaScript choosing the radio is enough (it posts on
    change); without, the item's Save button sends the form."""
    item = page.locator(ITEMS).nth(index)
    item_id = item.get_attribute("id")
    item.locator(f"input[type=radio][value={result}]").click()
    if not js:
        with page.expect_navigation():
            item.locator("button[type=submit]").click()
    expect(page.locator(f"#{item_id}")).to_have_class(re.compile(rf"\bcheck-{result}\b"))
    expect(page.locator(f"#{item_id} input[type=radio][value={result}]")).to_be_checked()


def complete(page: Page, url: str, js: bool) -> None:
    """With JavaScript the button asks first (hx-confirm); the person accepts."""
    questions: list[str] = []

    def accept(dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.locator("#inspection-summary form[action$='/complete'] button[type=submit]").click()
    page.wait_for_url(url)
    expect(page.locator("#flashes .flash")).to_be_visible()
    assert len(questions) == (1 if js else 0), questions
    # Completed: the checklist is read only.
    expect(page.locator(f"{ITEMS} form")).to_have_count(0)


def test_ticks_update_summary_and_all_passed_admits(page, live_server, login_as, new_site, js):
    site = new_site()
    login_as(page, "police")
    url = start_inspection(page, live_server, site)
    set_marker(page, js)

    tick(page, js, 0, "pass")
    expect(count(page, "passed")).to_have_text("1")
    expect(count(page, "unanswered")).to_have_text(str(REQUIRED_ITEMS - 1))
    tick(page, js, 1, "fail")
    expect(count(page, "failed")).to_have_text("1")
    expect(count(page, "unanswered")).to_have_text(str(REQUIRED_ITEMS - 2))
    expect(page.locator("#inspection-summary p.error")).to_be_visible()  # required failing
    # Changing the answer of an item moves it between the counts.
    tick(page, js, 1, "pass")
    expect(count(page, "passed")).to_have_text("2")
    expect(count(page, "failed")).to_have_text("0")
    expect(page.locator("#inspection-summary p.error")).to_have_count(0)
    assert page.url.split("#")[0] == url
    if js:
        assert marker_survived(page), "ticking an item reloaded the page"

    for index in range(2, REQUIRED_ITEMS):
        tick(page, js, index, "pass")
    expect(count(page, "passed")).to_have_text(str(REQUIRED_ITEMS))
    expect(count(page, "unanswered")).to_have_text("0")
    if js:
        assert marker_survived(page), "ticking the items reloaded the page"

    complete(page, url, js)
    expect(page.locator("#inspection-summary .badge-ok")).to_be_visible()

    page.locator(f"#main a[href='/sites/{site.id}']").first.click()
    page.wait_for_url(f"{live_server.url}/sites/{site.id}")
    expect(page.locator(f"{STATUS} .badge-ok")).to_be_visible()
    expect(page.locator(".site-status [data-badge=admitted]")).to_be_visible()
    expect(page.locator("#main [data-badge=not-admitted]")).to_have_count(0)


def test_one_failed_required_item_flags_site_not_admitted(
    page, live_server, login_as, new_site, js
):
    site = new_site(admitted=True)
    login_as(page, "police")
    page.goto(f"/sites/{site.id}")
    expect(page.locator(".site-status [data-badge=admitted]")).to_be_visible()
    url = start_inspection(page, live_server, site)

    for index in range(REQUIRED_ITEMS):
        tick(page, js, index, "fail" if index == 3 else "pass")
    expect(count(page, "passed")).to_have_text(str(REQUIRED_ITEMS - 1))
    expect(count(page, "failed")).to_have_text("1")
    expect(count(page, "unanswered")).to_have_text("0")

    complete(page, url, js)
    expect(page.locator("#inspection-summary .badge-warn")).to_be_visible()

    page.goto(f"/sites/{site.id}")
    expect(page.locator(".site-status [data-badge=not-admitted]")).to_be_visible()
    expect(page.locator(".site-status [data-badge=admitted]")).to_have_count(0)
    expect(page.locator(f"{STATUS} .badge-warn")).to_be_visible()
    # ... and flagged in the list of sites too.
    page.goto(f"/sites/?q={quote(site.name)}")
    expect(page.locator(f"#site-{site.id}")).to_have_class(re.compile(r"\bnot-admitted\b"))
    expect(page.locator(f"#site-{site.id} [data-badge=not-admitted]")).to_be_visible()
