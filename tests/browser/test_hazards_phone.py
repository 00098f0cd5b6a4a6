"""Hazards on a 360 px phone, with and without JavaScript (issue 15): the landlord
reports one at their own site from the site page, the police assign it by choosing
a person from a list, the landlord marks it fixed with a photo, shown beside the
report's photo."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from community.accounts.models import User
from community.extensions import db
from community.hazards import services, views
from community.places.models import Site
from tests.browser.conftest import PHONE
from tests.browser.test_phone import accessibility_faults
from tests.factories.hazards import image_bytes

pytestmark = pytest.mark.browser

_seq = itertools.count(1)


def _photo(name: str, color: tuple[int, int, int]) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": image_bytes("JPEG", color=color)}


def _loaded(page: Page, selector: str) -> bool:
    return page.locator(selector).evaluate("img => img.complete && img.naturalWidth > 0")


def test_landlord_reports_police_assign_landlord_fixes_with_a_photo(
    make_page, live_server, login_as, new_site, js
):
    site = new_site(admitted=True)
    description = f"楼道堆放纸箱，堵塞安全出口{next(_seq)}"

    # The landlord sees the hazard first and reports it from the site page.
    landlord = make_page(js=js, viewport=PHONE)
    login_as(landlord, "landlord")
    landlord.goto(f"/sites/{site.id}")
    landlord.locator("#panel-hazards").get_by_role("button", name="上报隐患").click()
    landlord.wait_for_url(f"{live_server.url}/sites/{site.id}/hazards/new")
    landlord.locator("textarea[name=description]").fill(description)
    landlord.locator("input[name=photo]").set_input_files(_photo("before.jpg", (200, 30, 30)))
    landlord.locator("#hazard-form button[type=submit]").click()
    landlord.wait_for_url(f"{live_server.url}/hazards/*")
    hazard_url = landlord.url
    expect(landlord.locator(".hazard-description")).to_have_text(description)
    expect(landlord.locator("figure.hazard-photo figcaption")).to_have_text(["发现时"])
    assert landlord.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # The police choose whom to assign it to: names with roles and organisations.
    police = make_page(js=js, viewport=PHONE)
    login_as(police, "police")
    police.goto(hazard_url)
    choice = police.locator("select[name=assignee]")
    expect(choice).to_be_visible()
    labels = choice.locator("option").all_inner_texts()
    assert "张房东 · 房东" in labels, labels
    assert any(label == "赵经理 · 物业管理人员 · 安居物业服务有限公司" for label in labels), labels
    assert police.locator("input[name=username]").count() == 0
    if js:
        assert accessibility_faults(police, "the hazard's assign form") == []
    choice.select_option(label="张房东 · 房东")
    police.locator(".hazard-assign button[type=submit]", has_text="指派").click()
    if js:
        expect(police.locator("#toast")).to_contain_text("隐患已指派")
    else:
        expect(police.locator(".flash", has_text="隐患已指派")).to_be_visible()
    expect(police.locator(".hazard-history")).to_contain_text("王警官")

    # The landlord marks it fixed with a photo of the result.
    landlord.goto(hazard_url)
    landlord.locator("textarea[name=note]").fill("纸箱已清走，出口畅通")
    landlord.locator("input[name=photo]").set_input_files(_photo("after.jpg", (30, 160, 30)))
    landlord.get_by_role("button", name="标记为已整改").click()
    if js:
        expect(landlord.locator("#toast")).to_contain_text("隐患已标记为已整改")
    else:
        expect(landlord.locator(".flash", has_text="隐患已标记为已整改")).to_be_visible()
    expect(landlord.locator("figure.hazard-photo figcaption")).to_have_text(["发现时", "整改后"])
    expect(landlord.get_by_test_id("fix-photo").locator("img")).to_be_visible()
    assert _loaded(landlord, "[data-testid=fix-photo] img")
    boxes = [f.bounding_box() for f in landlord.locator("figure.hazard-photo").all()]
    assert all(b["x"] + b["width"] <= PHONE["width"] for b in boxes)
    assert boxes[0]["y"] == boxes[1]["y"], "the two photos stand side by side"
    if js:
        assert accessibility_faults(landlord, "the fixed hazard") == []
    assert landlord.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_long_list_of_people_is_searched_by_name(
    make_page, live_server, login_as, new_site, js, monkeypatch
):
    """Past ASSIGNEE_SEARCH_FROM people the assign form offers a search: typing narrows
    the list in place (JS), the search button reloads the page narrowed (no JS)."""
    monkeypatch.setattr(views, "ASSIGNEE_SEARCH_FROM", 1)  # the live server's thread reads it
    site = new_site(admitted=True)
    with live_server.app.app_context():
        volunteer = db.session.scalar(select(User).where(User.username == "volunteer"))
        hazard = services.report_hazard(
            db.session,
            volunteer,
            db.session.get(Site, site.id),
            description="电动车在楼道充电",
            severity="high",
        )
        db.session.commit()
        hazard_id = hazard.id
        db.session.remove()
    police = make_page(js=js, viewport=PHONE)
    login_as(police, "police")
    police.goto(f"/hazards/{hazard_id}")
    choice = police.locator("select[name=assignee] option")
    expect(choice.nth(3)).to_be_attached()  # the prompt and three people at least
    assert choice.count() >= 4
    if js:
        assert accessibility_faults(police, "the assign form's search") == []
    search = police.get_by_label("查找人员（姓名、用户名或单位）")
    if js:
        search.fill("物业")  # one input event: the list is swapped once, in place
        expect(choice).to_have_count(2)
        assert police.url.endswith(f"/hazards/{hazard_id}")
    else:
        search.fill("物业")
        police.get_by_role("button", name="搜索").click()
        police.wait_for_url(f"{live_server.url}/hazards/{hazard_id}?who=*")
        expect(choice).to_have_count(2)
    expect(choice.nth(1)).to_have_text("赵经理 · 物业管理人员 · 安居物业服务有限公司")
    police.locator("select[name=assignee]").select_option(index=1)
    police.locator(".hazard-assign button[type=submit]", has_text="指派").click()
    if js:
        expect(police.locator("#toast")).to_contain_text("隐患已指派")
    expect(police.locator(".hazard-facts")).to_contain_text("赵经理")
