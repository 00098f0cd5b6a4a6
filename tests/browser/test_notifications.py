"""The bell and the notification list in a real browser: with JavaScript the count
arrives after the page and falls to nothing in place when all are marked read;
without JavaScript the bell is a link and the forms post and redirect."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import expect

from community.accounts import services
from community.extensions import db
from tests.browser.helpers import login, marker_survived, set_marker
from tests.factories.notifications import make_notice

pytestmark = pytest.mark.browser
_seq = itertools.count(1)


@pytest.fixture
def reader(live_server):
    """A fresh user with three unread notices (one linking to /hazards/)."""
    n = next(_seq)
    with live_server.app.app_context():
        user = services.create_user(db.session, f"reader{n}", "browser-password-1")
        for _ in range(3):
            make_notice(db.session, user=user, link="/hazards/")
        db.session.commit()
        username = user.username
        db.session.remove()
    return username


def test_bell_count_and_mark_all_read(page, live_server, reader, js):
    login(page, reader, "browser-password-1")
    bell = page.locator("#bell")
    if js:
        expect(bell.get_by_test_id("bell-count")).to_have_text("3")
    else:
        expect(bell.get_by_test_id("bell-count")).to_have_count(0)
    bell.get_by_test_id("bell").click()
    page.wait_for_url(f"{live_server.url}/notifications/")
    expect(page.locator("#notice-list li.unread")).to_have_count(3)
    set_marker(page, js)
    page.get_by_test_id("read-all").click()
    expect(page.locator("#notice-list li.unread")).to_have_count(0)
    if js:
        assert marker_survived(page), "marking read reloaded the page"
        expect(bell.get_by_test_id("bell-count")).to_have_count(0)
    else:
        expect(page.locator("#flashes .flash-success")).to_be_visible()


def test_following_a_notice_lands_on_its_page_and_reads_it(page, live_server, reader):
    login(page, reader, "browser-password-1")
    page.goto("/notifications/")
    page.locator("#notice-list li.unread").get_by_test_id("follow-notice").first.click()
    page.wait_for_url(f"{live_server.url}/hazards/")
    page.goto("/notifications/")
    expect(page.locator("#notice-list li.unread")).to_have_count(2)
