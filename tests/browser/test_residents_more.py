"""Three resident flows on a 360 px phone, each with and without JavaScript, same
outcome: a spreadsheet import through the web in steps (upload -> progress ->
result with the refused-rows link), the police issuing a proposed yellow card on
the compliance page, and a landlord correcting a report the police sent back,
reached from the start page."""

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

_serial = itertools.count(800)
_people = itertools.count(1)


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_import_in_steps_on_a_phone(make_page, login_as, live_server, new_site, worker, js):
    site = new_site(rooms=(("101", 4, 0), ("102", 4, 0)))
    yesterday = (local_today() - timedelta(days=1)).isoformat()
    header = "site_id,building,room,name,id_number,phone,move_in,hometown,employer"
    rows = [
        f"{site.id},{site.building_name},101,导入甲,{id_number(serial=next(_serial))},13812345678,{yesterday},浙江,",
        f"{site.id},{site.building_name},102,导入乙,{id_number(serial=next(_serial))},,{yesterday},,",
        f"{site.id},{site.building_name},999,导入丙,{id_number(serial=next(_serial))},,{yesterday},,",
    ]
    body = ("\n".join([header, *rows]) + "\n").encode()
    page = make_page(js=js, viewport=PHONE)
    login_as(page, "landlord")
    page.goto("/residents/import")
    _fits(page)
    page.locator("input[name=file]").set_input_files(
        {"name": "名单.csv", "mimeType": "text/csv", "buffer": body}
    )
    page.locator("#import button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/residents/import/*")
    progress = page.locator("#import-progress")
    if js:
        # The block asks for itself every 2 s while the worker imports.
        expect(progress).to_contain_text("导入完成。", timeout=20_000)
    else:
        for _ in range(20):
            if "导入完成" in progress.inner_text():
                break
            page.wait_for_timeout(500)
            progress.get_by_role("link", name="刷新").click()
            page.wait_for_load_state()
        expect(progress).to_contain_text("导入完成。")
    _fits(page)
    expect(progress.locator("progress")).to_have_attribute("value", "100")
    link = progress.locator("a", has_text="下载未导入的行")
    expect(link).to_be_visible()
    report = page.request.get(link.get_attribute("href"))
    assert report.status == 200
    text = report.text()
    assert text.splitlines()[1].startswith("4,") and "999" in text
    for name in ("导入甲", "导入乙"):
        assert name not in text


def _late_landlord(live_server) -> tuple[int, str]:
    """A fresh landlord of 东村社区 with five late reports this month (the card is
    proposed from five): (user id, display name)."""
    from community.accounts import services as accounts
    from community.accounts.models import Area
    from community.places.models import Building, Room, Site
    from community.residents import queries, services

    n = next(_people)
    with live_server.app.app_context():
        area = db.session.scalar(select(Area).where(Area.name == "东村社区"))
        user = accounts.create_user(
            db.session,
            f"late{n}x{next(_serial)}",
            "browser-password-1",
            display_name=f"迟报房东{n}",
        )
        accounts.add_membership(db.session, None, user, "landlord", None, area)
        site = Site(
            name=f"迟报楼{n}",
            kind="rental_house",
            area_id=area.id,
            address=f"迟报路{n}号",
            landlord_id=user.id,
        )
        room = Room(building=Building(site=site, name="1号楼"), number="1", beds=9, occupants=9)
        db.session.add_all([site, room])
        db.session.flush()
        room = queries.get_room(db.session, room.id)
        for _ in range(5):
            services.report_residence(
                db.session,
                user,
                room,
                name="迟报租客",
                id_number=id_number(serial=next(_serial)),
                phone=None,
                move_in=local_today() - timedelta(days=10),
                channel="landlord",
            )
        db.session.commit()
        found = (user.id, user.display_name)
        db.session.remove()
    return found


def test_police_issue_a_proposed_yellow_card(make_page, login_as, live_server, js):
    user_id, name = _late_landlord(live_server)
    page = make_page(js=js, viewport=PHONE)
    login_as(page, "police")
    page.goto("/compliance/")
    _fits(page)
    row = page.locator(f"#compliance-user-{user_id}")
    expect(row).to_contain_text(name)
    expect(row).to_have_attribute("data-proposed", "1")
    expect(row.locator("summary")).to_have_text("建议发出黄牌警告")
    row.locator("textarea[name=reason], input[name=reason]").fill("本月迟报五次")
    set_marker(page, js)
    row.locator("button", has_text="发出黄牌警告").click()
    row = page.locator(f"#compliance-user-{user_id}")
    expect(row.locator("[data-badge=yellow-card]")).to_be_visible()
    expect(row).to_contain_text("本月迟报五次")
    expect(page.locator(".flash, .toast", has_text="已发出黄牌警告。").first).to_be_visible()
    if js:
        assert marker_survived(page), "issuing the card reloaded the page"
    _fits(page)


def _sent_back(live_server, site) -> tuple[int, str]:
    from community.accounts.models import User
    from community.places.models import Building, Room
    from community.residents import queries, services

    name = f"退回租客{next(_serial)}"
    with live_server.app.app_context():
        landlord = db.session.scalar(select(User).where(User.username == "landlord"))
        police = db.session.scalar(select(User).where(User.username == "police"))
        room_id = db.session.scalar(
            select(Room.id).join(Building).where(Building.site_id == site.id)
        )
        residence = services.report_residence(
            db.session,
            landlord,
            queries.get_room(db.session, room_id),
            name=name,
            id_number=id_number(serial=next(_serial)),
            phone="13812345678",
            move_in=local_today() - timedelta(days=1),
            channel="landlord",
        )
        services.reject_residence(db.session, police, residence, "身份证号码有误")
        db.session.commit()
        found = residence.id
        db.session.remove()
    return found, name


def test_landlord_corrects_a_report_sent_back_from_the_start_page(
    make_page, login_as, live_server, new_site, js
):
    site = new_site(rooms=(("301", 2, 1),))
    residence_id, name = _sent_back(live_server, site)
    page = make_page(js=js, viewport=PHONE)
    login_as(page, "landlord")
    _fits(page)
    entry = page.locator(f"#start-sent-back-{residence_id}")
    expect(entry).to_contain_text(name)
    expect(entry).to_contain_text("身份证号码有误")
    entry.locator("a").click()
    page.wait_for_url(f"{live_server.url}/residents/{residence_id}*")
    form = page.locator("form#resubmit")
    expect(form.locator("[data-testid=rejected-reason]")).to_contain_text("身份证号码有误")
    _fits(page)
    form.locator("input[name=id_number]").fill(id_number(serial=next(_serial)))
    form.locator("input[name=phone]").fill("13912345678")
    set_marker(page, js)
    form.locator("button[type=submit]").click()
    card = page.locator(f"#residence-card-{residence_id}")
    expect(card.locator("[data-status=pending]")).to_be_visible()
    expect(page.locator("form#resubmit")).to_have_count(0)
    expect(
        page.locator(".flash, .toast", has_text="登记已修改，民警将重新核实。").first
    ).to_be_visible()
    if js:
        assert marker_survived(page), "resubmitting reloaded the page"
    page.goto("/")
    expect(page.locator(f"#start-sent-back-{residence_id}")).to_have_count(0)
