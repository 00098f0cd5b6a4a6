"""Adding and removing organization members: in place with JavaScript, by
plain POST and redirect without; the outcome is the same."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import marker_survived, set_marker

pytestmark = pytest.mark.browser

ROWS = "#members tbody tr[id^='member-']"


def open_org(page: Page, live_server, org_name: str, org_id: int) -> str:
    """Go to the organization through the /admin/orgs list, as a person would."""
    page.goto("/admin/orgs")
    page.locator("#main table a", has_text=org_name).click()
    url = f"{live_server.url}/admin/orgs/{org_id}"
    page.wait_for_url(url)
    return url


def test_add_member_appears_in_place(page, live_server, login_as, new_team, js):
    team = new_team()
    login_as(page, "admin")
    url = open_org(page, live_server, team.org_name, team.org_id)
    expect(page.locator(ROWS)).to_have_count(0)
    set_marker(page, js)

    form = page.locator("#member-form")
    form.locator("input[name=username]").fill(team.username)
    form.locator("select[name=role]").select_option("volunteer")
    form.locator("button[type=submit]").click()

    row = page.locator(ROWS, has_text=team.username)
    expect(row).to_be_visible()
    expect(row).to_contain_text(team.display_name)
    expect(page.locator(ROWS)).to_have_count(1)
    assert page.url == url
    if js:
        assert marker_survived(page), "adding a member reloaded the page"
    else:
        expect(page.locator("#flashes .flash-success")).to_be_visible()
    # The form is fresh again, ready for the next member.
    expect(page.locator("#member-form input[name=username]")).to_have_value("")


def test_add_unknown_username_shows_error_and_adds_nobody(
    page, live_server, login_as, new_team, js
):
    team = new_team(with_member=True)
    login_as(page, "admin")
    open_org(page, live_server, team.org_name, team.org_id)
    expect(page.locator(ROWS)).to_have_count(1)
    set_marker(page, js)

    form = page.locator("#member-form")
    form.locator("input[name=username]").fill("nobody-has-this-name")
    form.locator("select[name=role]").select_option("volunteer")
    form.locator("button[type=submit]").click()

    expect(page.locator("#member-form #username-error")).to_be_visible()
    expect(page.locator("#member-form input[name=username]")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.locator("#member-form input[name=username]")).to_have_value("nobody-has-this-name")
    expect(page.locator(ROWS)).to_have_count(1)
    if js:
        assert marker_survived(page), "the invalid add reloaded the page"


def test_remove_member_disappears_in_place(page, live_server, login_as, new_team, js):
    team = new_team(with_member=True)
    login_as(page, "admin")
    url = open_org(page, live_server, team.org_name, team.org_id)
    expect(page.locator(ROWS)).to_have_count(1)
    set_marker(page, js)

    page.locator(f"#member-{team.membership_id} button[type=submit]").click()

    expect(page.locator(f"#member-{team.membership_id}")).to_have_count(0)
    expect(page.locator(ROWS)).to_have_count(0)
    expect(page.locator("#member-form")).to_be_visible()
    assert page.url == url
    if js:
        assert marker_survived(page), "removing a member reloaded the page"
    else:
        expect(page.locator("#flashes .flash-success")).to_be_visible()
