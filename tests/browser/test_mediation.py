"""Mediation on a 360 px phone, with and without JavaScript (issue 20): a police
officer opens a case, the team lead accepts it and assigns a mediator, the mediator
books a session in a room, records the agreement and prints the 人民调解协议书."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from community.accounts.models import Area
from community.core.timeutil import today as local_today
from community.extensions import db
from tests.browser.conftest import PHONE
from tests.factories.mediation import make_room

pytestmark = pytest.mark.browser

_seq = itertools.count(1)


def _room(live_server) -> tuple[int, str]:
    """A fresh room of the seeded team's street, so each run books a free hour."""
    with live_server.app.app_context():
        street = db.session.scalar(select(Area).where(Area.name == "东城街道"))
        room = make_room(db.session, area=street, name=f"浏览器调解室{next(_seq)}")
        db.session.commit()
        found = room.id, room.name
        db.session.remove()
    return found


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


def test_a_case_goes_from_the_police_to_a_printed_agreement(make_page, live_server, login_as, js):
    n = next(_seq)
    room_id, room_name = _room(live_server)
    day = local_today() + timedelta(days=40 + n + (0 if js else 20))
    applicant, respondent = f"赵{n}甲", f"钱{n}乙"

    # The police officer opens the case.
    police = make_page(js=js, viewport=PHONE)
    login_as(police, "police")
    police.goto("/mediation/new")
    _fits(police)
    police.locator("select[name=kind]").select_option("rent")
    police.locator("select[name=source]").select_option("police")
    police.locator("select[name=area_id]").select_option(label="东村社区")
    police.locator("textarea[name=summary]").fill("退租后押金未退，双方争执。")
    police.locator("input[name=amount]").fill("3000")
    police.locator("input[name=risk][value=medium]").check()
    police.locator("input[name='parties-0-name']").fill(applicant)
    police.locator("input[name='parties-0-phone']").fill("13800000001")
    police.locator("input[name='parties-1-name']").fill(respondent)
    police.locator("input[name='parties-1-phone']").fill("13800000002")
    police.locator("#case-form button[type=submit]").click()
    police.wait_for_url(re.compile(r".*/mediation/\d+$"))
    case_path = police.url.removeprefix(live_server.url)
    heading = police.locator("#case-body h1")
    expect(heading).to_contain_text("待受理")
    number = heading.inner_text().split()[0]
    assert re.search(r"\d", number), number
    parties = police.get_by_test_id("parties")
    expect(parties).to_contain_text(applicant)
    expect(parties).to_contain_text("138****0001")
    expect(parties).not_to_contain_text("13800000001")
    _fits(police)

    # The team lead accepts it and assigns the mediator.
    lead = make_page(js=js, viewport=PHONE)
    login_as(lead, "mediation_lead")
    lead.goto(case_path)
    expect(lead.locator("#case-body h1")).to_contain_text(number)
    _fits(lead)
    lead.locator("#accept select[name=lead_mediator_id]").select_option(label="老娘舅陈伯")
    lead.locator("#accept button[type=submit]").click()
    expect(lead.locator("#case-body h1")).to_contain_text("调解中")
    expect(lead.get_by_test_id("mediators")).to_contain_text("老娘舅陈伯")
    assert lead.url.endswith(case_path)
    _fits(lead)

    # The mediator books a session in the room.
    mediator = make_page(js=js, viewport=PHONE)
    login_as(mediator, "mediator")
    mediator.goto(case_path)
    expect(mediator.locator("#case-body h1")).to_contain_text(number)
    expect(mediator.locator("#case-body h1")).to_contain_text("调解中")
    _fits(mediator)
    book = mediator.locator("#book")
    book.locator("select[name=room_id]").select_option(str(room_id))
    book.locator("select[name=mediator_id]").select_option(label="老娘舅陈伯")
    book.locator("input[name=starts_at]").fill(f"{day.isoformat()}T10:00")
    book.locator("input[name=ends_at]").fill(f"{day.isoformat()}T11:30")
    book.locator("button[type=submit]").click()
    sessions = mediator.get_by_test_id("sessions")
    expect(sessions).to_contain_text(f"{day.isoformat()} 10:00–11:30")
    expect(sessions).to_contain_text(room_name)
    expect(sessions).to_contain_text("已预约")
    expect(mediator.locator("#case-body h1")).to_contain_text("调解中")
    _fits(mediator)

    # The week of sessions shows it in its room at its time.
    mediator.goto(f"/mediation/week?week={day.isoformat()}")
    week = mediator.locator(f"#room-week-{room_id}")
    expect(week).to_contain_text(room_name)
    expect(week).to_contain_text(f"10:00–11:30 · {number}")
    _fits(mediator)

    # The mediator records the agreement.
    mediator.goto(case_path)
    outcome = mediator.locator("#outcome")
    outcome.locator("input[name=outcome][value=agreement]").check()
    outcome.locator("textarea[name=terms]").fill("房东于月底前退还押金两千五百元。")
    outcome.locator("input[name=settled_amount]").fill("2500")
    outcome.locator("button[type=submit]").click()
    expect(mediator.get_by_test_id("outcome")).to_contain_text("达成协议")
    expect(mediator.locator("#case-body h1")).to_contain_text("已办结")
    _fits(mediator)

    # The agreement page: both parties masked, signature lines, A4 print.
    mediator.get_by_test_id("agreement-link").click()
    mediator.wait_for_url(f"**{case_path}/agreement")
    body = mediator.locator("body.agreement")
    expect(body).to_contain_text(number)
    table = mediator.locator("table.parties")
    for name, masked, full in (
        (applicant, "138****0001", "13800000001"),
        (respondent, "138****0002", "13800000002"),
    ):
        expect(table).to_contain_text(name)
        expect(table).to_contain_text(masked)
        expect(table).not_to_contain_text(full)
    expect(body).to_contain_text("房东于月底前退还押金两千五百元。")
    signatures = mediator.locator(".signatures")
    expect(signatures).to_contain_text(applicant)
    expect(signatures).to_contain_text(respondent)
    expect(signatures).to_contain_text("老娘舅陈伯")
    assert signatures.locator(".line").count() >= 5
    _fits(mediator)
    back = mediator.locator(".no-print")
    expect(back).to_be_visible()
    mediator.emulate_media(media="print")
    expect(back).to_be_hidden()
    expect(mediator.locator("h1")).to_be_visible()
    expect(signatures).to_be_visible()
    page_size = mediator.evaluate(
        """() => [...document.styleSheets].flatMap(s => [...s.cssRules])
            .filter(r => r instanceof CSSPageRule).map(r => r.style.size)"""
    )
    assert "a4" in [size.lower() for size in page_size], page_size
    # The case page prints without the navigation bar.
    mediator.goto(case_path)
    expect(mediator.locator(".site-header")).to_be_hidden()
    expect(mediator.locator("#case-body h1")).to_be_visible()
    mediator.emulate_media(media="screen")
    expect(mediator.locator(".site-header")).to_be_visible()
