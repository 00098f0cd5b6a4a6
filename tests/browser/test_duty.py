"""A volunteer on a 360 px phone claims a duty (the places count changes in the card,
in place with JavaScript, after a redirect without), then checks in and ticks a
checkpoint on the on-duty page."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from community.accounts import services as accounts
from community.accounts.models import Area, User
from community.core.timeutil import local_date, utcnow
from community.duty import services
from community.extensions import db
from tests.browser.conftest import PHONE
from tests.browser.helpers import login, marker_survived, set_marker

pytestmark = pytest.mark.browser
_seq = itertools.count(1)
PASSWORD = "browser-password-1"


def _fresh_volunteer_and_duty(live_server):
    """A volunteer of 东村社区 and a duty there starting in 10 minutes (check-in open)."""
    n = next(_seq)
    with live_server.app.app_context():
        s = db.session
        area = s.scalar(select(Area).where(Area.name == "东村社区"))
        coordinator = s.scalar(select(User).where(User.username == "coordinator"))
        user = accounts.create_user(s, f"dutyvol{n}", PASSWORD, display_name=f"巡逻员{n}")
        accounts.add_membership(s, None, user, "volunteer", None, area)
        start = (utcnow() + timedelta(minutes=10)).replace(second=0, microsecond=0)
        task = services.publish_duty(
            s,
            coordinator,
            services.DutyInput(
                title=f"浏览器巡逻{n}",
                kind="patrol",
                area=area,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                capacity=3,
                points=5,
                checkpoints="东门岗亭\n南门路口",
            ),
        )[0]
        s.commit()
        day = local_date(task.starts_at).isoformat()
        ids = user.username, task.id, day
        s.remove()
    return ids


def test_volunteer_claims_checks_in_and_ticks_on_a_phone(make_page, live_server, js):
    username, task_id, day = _fresh_volunteer_and_duty(live_server)
    page = make_page(js=js, viewport=PHONE)
    login(page, username, PASSWORD)
    page.goto(f"/duties/?day={day}")
    card = f"#duty-card-{task_id}"
    expect(page.locator(f"{card} [data-testid=places]")).to_have_text("0/3")
    set_marker(page, js)
    box = page.locator(f"{card} [data-testid=claim]").bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"]
    if js:
        page.locator(f"{card} [data-testid=claim]").click()
    else:
        with page.expect_navigation():
            page.locator(f"{card} [data-testid=claim]").click()
    expect(page.locator(f"{card} [data-testid=places]")).to_have_text("1/3")
    expect(page.locator(f"{card} [data-testid=my-claim]")).to_be_visible()
    assert marker_survived(page) == js
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    if js:
        page.locator(f"{card} [data-testid=my-claim] a").click()
        page.wait_for_url("**/duties/claims/*")
    else:
        with page.expect_navigation():
            page.locator(f"{card} [data-testid=my-claim] a").click()
    if js:
        page.locator("[data-testid=check-in]").click()
    else:
        with page.expect_navigation():
            page.locator("[data-testid=check-in]").click()
    expect(page.locator("[data-testid=claim-status]")).to_have_text("执勤中")
    first = page.locator("[data-testid=checkpoint]").first
    if js:
        first.locator("[data-testid=tick]").click()
    else:
        with page.expect_navigation():
            first.locator("[data-testid=tick]").click()
    expect(
        page.locator("[data-testid=checkpoint]").first.locator("[data-testid=ticked]")
    ).to_be_visible()
    expect(
        page.locator("[data-testid=checkpoint]").nth(1).locator("[data-testid=tick]")
    ).to_be_visible()
