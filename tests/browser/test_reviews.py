"""The police approve a registration in the review queue on a phone: the row swaps
out and the navigation badge counts down — with and without JavaScript."""

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

_serial = itertools.count(900)


def _pending_residence(live_server, site_id: int) -> int:
    from community.accounts.models import User
    from community.places.models import Site
    from community.residents import queries, services

    with live_server.app.app_context():
        landlord = db.session.scalar(select(User).where(User.username == "landlord"))
        room = queries.site_rooms(db.session, db.session.get(Site, site_id))[0]
        residence = services.report_residence(
            db.session,
            landlord,
            room,
            name=f"审核{next(_serial)}",
            id_number=id_number(serial=next(_serial)),
            phone="13812345678",
            move_in=local_today() - timedelta(days=1),
            channel="landlord",
        )
        db.session.commit()
        residence_id = residence.id
        db.session.remove()
    return residence_id


def test_approval_swaps_the_row_out_and_counts_the_badge_down(
    make_page, live_server, login_as, new_site, js
):
    site = new_site(admitted=True, rooms=(("301", 2, 1),))
    residence_id = _pending_residence(live_server, site.id)
    page = make_page(js=js, viewport=PHONE)
    login_as(page, "police")
    page.goto("/reviews/?kind=residence")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    badge = page.locator("#nav-badge-reviews-index")
    before = int(badge.get_attribute("data-count"))
    assert before >= 1
    row = page.locator(f"#review-residence-{residence_id}")
    # Oldest first: other browser tests' reports may push the new one to a later page.
    while row.count() == 0:
        later = page.locator('a[rel="next"]')
        assert later.count(), "the new registration is on no page of the queue"
        page.goto(later.first.get_attribute("href"))
    queue_url = page.url
    expect(row).to_be_visible()
    assert row.bounding_box()["width"] <= PHONE["width"]
    set_marker(page, js)
    row.get_by_test_id("approve").click()
    if js:
        expect(row).to_have_attribute("data-decided", "approve")
        expect(row.get_by_test_id("approve")).to_have_count(0)
        assert marker_survived(page), "approving reloaded the page"
        expect(page.locator("#toast")).to_contain_text("已通过")
    else:
        page.wait_for_url(queue_url)
        expect(page.locator(".flash", has_text="已通过")).to_be_visible()
        expect(row).to_have_count(0)
    expect(badge).to_have_attribute("data-count", str(before - 1))
    # The badge elsewhere agrees.
    page.goto("/residents/")
    expect(page.locator("#nav-badge-reviews-index")).to_have_attribute(
        "data-count", str(before - 1)
    )
