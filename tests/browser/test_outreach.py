"""Outreach on a 360 px phone, with and without JavaScript (issue 21): an anonymous
phone opens the event's sign-in URL (from the organiser's poster), signs in and
answers the quiz, while the organiser's count rises in place (htmx polling; a
refresh without JavaScript)."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from community.accounts.models import Organization, User
from community.core.timeutil import today as local_today
from community.core.timeutil import utcnow
from community.extensions import db
from community.outreach import services
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser

_seq = itertools.count(1)


def _event(live_server) -> int:
    with live_server.app.app_context():
        session = db.session
        police = session.scalar(select(User).where(User.username == "police"))
        station = session.scalar(select(Organization).where(Organization.name == "东城派出所"))
        start = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=10)
        event = services.publish_event(
            session,
            police,
            services.EventInput(
                kind="anti_fraud",
                title=f"反诈宣传进楼道 {next(_seq)}",
                target="area",
                area_id=station.area_id,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                organiser_id=station.id,
            ),
        )
        session.commit()
        return event.id


def test_a_phone_signs_in_and_answers_while_the_count_rises(make_page, live_server, login_as, js):
    event_id = _event(live_server)
    organiser = make_page(js=js, viewport=PHONE)
    login_as(organiser, "police")
    organiser.goto(f"/outreach/events/{event_id}/poster")
    signin_url = organiser.get_by_test_id("signin-url").get_attribute("href")
    assert organiser.locator("#poster svg").count() == 1
    organiser.goto(f"/outreach/events/{event_id}")
    count = organiser.get_by_test_id("signin-count")
    expect(count).to_have_text("0")

    phone = make_page(js=js, viewport=PHONE)
    phone.goto(signin_url)
    phone.locator("input[name=name]").fill("张三")
    phone.get_by_test_id("signin").click()
    phone.wait_for_url("**/done")
    expect(phone.get_by_test_id("signed-in")).to_contain_text("签到")
    expect(phone.locator(".takeaway")).to_contain_text("96110")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for i, answer in enumerate(["b", "a", "b", "a", "b"], 1):
        phone.locator(f"#q{i}-{answer}").check()
    phone.get_by_test_id("quiz-submit").click()
    expect(phone.get_by_test_id("quiz-result")).to_contain_text("4")
    # Signing in again from the same phone: its first sign-in, not a second count.
    phone.goto(signin_url)
    phone.wait_for_url("**/done")

    if js:
        # Polled in place every few seconds: no reload.
        organiser.evaluate("window.__still_here = true")
        expect(count).to_have_text("1", timeout=9_000)
        assert organiser.evaluate("window.__still_here === true")
    else:
        organiser.locator("#live-count a").click()
        expect(organiser.get_by_test_id("signin-count")).to_have_text("1")
    expect(organiser.get_by_test_id("quiz-share")).to_contain_text("80")
    assert organiser.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_an_enterprise_asks_and_the_police_schedule_it_from_the_queue(
    make_page, live_server, login_as, js
):
    enterprise = make_page(js=js, viewport=PHONE)
    login_as(enterprise, "enterprise")
    enterprise.goto("/outreach/requests/new")
    day = (local_today() + timedelta(days=20 + next(_seq))).isoformat()
    enterprise.locator("select[name=kind]").select_option("fire_safety")
    enterprise.locator("input[name=preferred_from]").fill(day)
    enterprise.locator("input[name=preferred_to]").fill(day)
    enterprise.locator("input[name=audience]").fill("77")
    enterprise.locator("#request-form button[type=submit]").click()
    enterprise.wait_for_url(re.compile(r".*/outreach/requests/\d+$"))
    request_path = enterprise.url.removeprefix(live_server.url)
    assert enterprise.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    police = make_page(js=js, viewport=PHONE)
    login_as(police, "police")
    # The request's own kind: other tests leave registrations waiting, which come first.
    police.goto("/reviews/?kind=outreach_request")
    row = police.locator(f"article.review-row:has(a[href='{request_path}'])")
    expect(row).to_contain_text("77")
    row.get_by_role("button", name="安排").click()
    police.wait_for_url(f"**{request_path}")
    police.get_by_test_id("schedule").click()
    police.wait_for_url("**/outreach/events/new?request=*")
    expect(police.locator("input[name=planned_audience]")).to_have_value("77")
    police.locator("input[name=title]").fill("消防安全进企业")
    police.locator("#event-form button[type=submit]").click()
    police.wait_for_url(re.compile(r".*/outreach/events/\d+$"))
    expect(police.locator("#event-card h1")).to_have_text("消防安全进企业")
    police.goto(request_path)
    expect(police.locator("#request-card")).to_contain_text("消防安全进企业")
    police.goto("/reviews/?kind=outreach_request")
    expect(police.locator(f"article.review-row:has(a[href='{request_path}'])")).to_have_count(0)
