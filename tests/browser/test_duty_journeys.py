"""The volunteer's and the coordinator's main journeys on a 360 px phone, once with
JavaScript and once without, asserting what the person sees at each step.

Volunteer (the demo account): the start page offers a duty starting now → its card
says 认领 → claimed (the card says so, without JavaScript the page returns to the
card) → check in → tick each checkpoint (the buttons line up) → check out with a
report. Coordinator (the demo account): publish a weekly series → each occurrence
is in its week's list."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from community.accounts.models import Area, User
from community.core.timeutil import utcnow
from community.duty import services
from community.duty.models import PLACE_STATES, DutyCheckpoint, DutyClaim, DutyTask
from community.extensions import db
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser
_seq = itertools.count(1)


def _click(page: Page, locator, js: bool) -> None:
    """Tap; without JavaScript every tap is a full page load."""
    if js:
        locator.click()
    else:
        with page.expect_navigation():
            locator.click()


def _said(page: Page, js: bool, text: str) -> None:
    """The success message: the toast with JavaScript, the flash after the redirect without."""
    where = page.locator("#toast") if js else page.locator("#flashes")
    expect(where).to_contain_text(text)


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _duty_starting_now(live_server) -> tuple[int, str, list[str]]:
    """A patrol of 东村社区 starting in 10 minutes (claims and check-in open), on the
    demo route (two of its checkpoints are sites). The demo volunteer's other duties
    within a day of it are cancelled first by the coordinator, so neither an overlap
    nor the daily cap stands in the way (the journey runs twice)."""
    n = next(_seq)
    with live_server.app.app_context():
        s = db.session
        area = s.scalar(select(Area).where(Area.name == "东村社区"))
        coordinator = s.scalar(select(User).where(User.username == "coordinator"))
        volunteer = s.scalar(select(User).where(User.username == "volunteer"))
        start = (utcnow() + timedelta(minutes=10)).replace(second=0, microsecond=0)
        held = s.scalars(
            select(DutyTask)
            .join(DutyClaim, DutyClaim.task_id == DutyTask.id)
            .where(
                DutyClaim.volunteer_id == volunteer.id,
                DutyClaim.status.in_(PLACE_STATES),
                DutyTask.status == "published",
                DutyTask.starts_at > start - timedelta(days=1),
                DutyTask.starts_at < start + timedelta(days=1),
            )
        ).all()
        for task in held:
            services.cancel_duty(s, coordinator, task)
        route = s.scalars(
            select(DutyCheckpoint.name)
            .join(DutyTask, DutyTask.id == DutyCheckpoint.task_id)
            .where(DutyTask.title == "午间治安巡防")
            .order_by(DutyCheckpoint.position)
        ).all()
        title = f"浏览器午间巡防{n}"
        task = services.publish_duty(
            s,
            coordinator,
            services.DutyInput(
                title=title,
                kind="patrol",
                area=area,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                capacity=3,
                points=15,
                checkpoints="\n".join(route),
            ),
        )[0]
        s.commit()
        ids = task.id, title, route
        s.remove()
    return ids


def test_volunteer_claims_checks_in_ticks_and_checks_out_on_a_phone(
    make_page, live_server, login_as, js
):
    task_id, title, route = _duty_starting_now(live_server)
    page = make_page(js=js, viewport=PHONE)
    login_as(page, "volunteer")

    # The start page offers the duty among those the volunteer can claim now.
    nearby = page.locator("#start-duty")
    expect(nearby).to_contain_text("附近可认领的任务")
    _click(page, nearby.get_by_role("link", name=title), js)
    page.wait_for_url(f"**/duties/{task_id}")
    card = page.locator(f"#duty-card-{task_id}")
    expect(card.locator("[data-testid=places]")).to_have_text("0/3")
    claim = card.get_by_role("button", name="认领")
    box = claim.bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"]
    _fits(page)

    # Claimed: the card says so instead of offering the button again.
    _click(page, claim, js)
    _said(page, js, "认领成功")
    if not js:
        assert page.url.endswith(f"#duty-card-{task_id}")
    card = page.locator(f"#duty-card-{task_id}")
    expect(card.locator("[data-testid=places]")).to_have_text("1/3")
    expect(card.locator("[data-testid=my-claim]")).to_contain_text("已认领")
    expect(card.get_by_role("button", name="认领")).to_have_count(0)

    # On duty: check in.
    _click(page, card.get_by_role("link", name="打开我的任务"), js)
    page.wait_for_url("**/duties/claims/*")
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("[data-testid=claim-status]")).to_have_text("已认领")
    _click(page, page.get_by_role("button", name="签到"), js)
    _said(page, js, "已签到")
    expect(page.locator("[data-testid=claim-status]")).to_have_text("执勤中")
    expect(page.locator("[data-testid=on-duty]")).to_contain_text("签到时间")
    _fits(page)

    # The checkpoint buttons line up, one under another, whatever the names.
    points = page.locator("[data-testid=checkpoint]")
    expect(points).to_have_count(len(route))
    boxes = [
        points.nth(i).get_by_role("button", name="打卡").bounding_box() for i in range(len(route))
    ]
    assert len({round(b["x"]) for b in boxes}) == 1, boxes
    assert len({round(b["width"]) for b in boxes}) == 1, boxes
    assert all(b["height"] >= 44 and b["x"] + b["width"] <= PHONE["width"] for b in boxes)

    # Tick every checkpoint: each shows its time, the next is still to tick.
    for i, name in enumerate(route):
        point = page.locator("[data-testid=checkpoint]").nth(i)
        _click(page, point.get_by_role("button", name="打卡"), js)
        _said(page, js, f"已打卡：{name}")
        expect(
            page.locator("[data-testid=checkpoint]").nth(i).locator("[data-testid=ticked]")
        ).to_contain_text(re.compile(r"✓ \d\d:\d\d"))
    expect(page.get_by_role("button", name="打卡")).to_have_count(0)

    # Check out with a report.
    page.get_by_label("报告").fill("路线巡查完毕，南门路口路灯不亮，已告知物业。")
    _click(page, page.get_by_role("button", name="签退并提交报告"), js)
    _said(page, js, "报告已提交")
    expect(page.locator("[data-testid=claim-status]")).to_have_text("上报")
    expect(page.locator("[data-testid=on-duty]")).to_contain_text("南门路口路灯不亮")
    expect(page.get_by_role("button", name="签退并提交报告")).to_have_count(0)
    _fits(page)


def test_coordinator_publishes_a_weekly_series_and_finds_each_occurrence_on_a_phone(
    make_page, live_server, login_as, js
):
    n = next(_seq)
    title = f"周中出租屋消防巡查{n}"
    today = datetime.now(ZoneInfo(live_server.app.config["BABEL_DEFAULT_TIMEZONE"])).date()
    first = today + timedelta(days=2)
    page = make_page(js=js, viewport=PHONE)
    login_as(page, "coordinator")
    page.goto("/duties/")
    expect(page.locator("h1")).to_have_text("乐巡任务")
    _click(page, page.get_by_role("button", name="发布任务"), js)
    expect(page.locator("h1")).to_have_text("发布任务")
    _fits(page)

    form = page.locator("#duty-form form")
    form.get_by_label("标题").fill(title)
    form.locator("select[name=kind]").select_option("fire_check")
    form.locator("select[name=area_id]").select_option(label="东村社区")
    form.locator("input[name=starts_at]").fill(f"{first.isoformat()}T19:00")
    form.locator("input[name=ends_at]").fill(f"{first.isoformat()}T21:00")
    form.locator("input[name=capacity]").fill("4")
    form.locator("input[name=points]").fill("12")
    form.locator("textarea[name=checkpoints]").fill("东门岗亭\n南门路口")
    form.locator("input[name=repeat_weeks]").fill("2")
    _click(page, form.get_by_role("button", name="发布"), js)

    # The first occurrence's page, with the message that three were published.
    page.wait_for_url(re.compile(r".*/duties/\d+$"))
    expect(page.locator("#flashes")).to_contain_text("已按周发布 3 个任务")
    expect(page.locator("h1")).to_have_text(title)
    card = page.locator("[data-testid=duty-card]")
    expect(card).to_contain_text(f"{first:%m-%d}")
    expect(card.locator("[data-testid=places]")).to_have_text("0/4")
    expect(page.locator(".duty-route li")).to_have_text(["东门岗亭", "南门路口"])

    # The week list: each occurrence in its week, on its day, and no fourth one.
    _click(page, page.get_by_role("link", name="← 乐巡任务"), js)
    expect(page.locator("h1")).to_have_text("乐巡任务")
    week = today - timedelta(days=today.weekday())
    for i in range(4):
        day = first + timedelta(weeks=i)
        while week + timedelta(days=7) <= day:
            week += timedelta(days=7)
            _click(page, page.get_by_role("link", name="下一周 →"), js)
            expect(page.locator(".week-nav strong")).to_contain_text(week.isoformat())
        cards = page.locator("[data-testid=duty-card]", has_text=title)
        if i < 3:
            expect(cards).to_have_count(1)
            expect(cards.locator("time")).to_contain_text(f"{day:%m-%d}")
            expect(cards.locator("time")).to_contain_text("19:00")
        else:
            expect(cards).to_have_count(0)
        _fits(page)
