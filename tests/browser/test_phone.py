"""Phone first, on a 360 x 740 screen: every role's main pages fit without sideways
scrolling and have no serious accessibility fault (axe-core); lists read as cards;
filters fold behind a toggle so the results come first; tap targets are at least
44 px high; the open inspection keeps its summary and Complete button at the bottom
and asks before completing; an htmx action shows its success message in the toast
while its button is disabled in flight (without JavaScript the same message arrives
as a flash on the next page)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser

TAP = 44  # px, the smallest comfortable tap target

# axe-core, a development dependency in package.json (`make test` runs npm ci).
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_FAILS = ("serious", "critical")


def fits(page: Page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what} is {width}px wide on a 360px phone"


def accessibility_faults(page: Page, where: str) -> list[str]:
    """axe-core's serious and critical violations on the page as shown, one line each
    (rule, element, page). axe is evaluated through the browser's debugging protocol,
    which the app's CSP (script-src 'self') does not govern: no inline script is added."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make assets` (npm ci) first")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = page.evaluate(
        """async (fails) => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
                .filter((v) => fails.includes(v.impact))
                .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                              targets: v.nodes.map((n) => n.target.join(" "))}));
        }""",
        list(AXE_FAILS),
    )
    return [
        f"{where}: {v['impact']} {v['id']} ({v['help']}) at {target}"
        for v in violations
        for target in v["targets"][:5]
    ]


def start_inspection(page: Page, live_server, site) -> str:
    page.goto(f"/sites/{site.id}")
    page.locator(f"#panel-admission form[action='/sites/{site.id}/inspections'] button").click()
    page.wait_for_url(re.compile(re.escape(live_server.url) + r"/inspections/\d+$"))
    return page.url.removeprefix(live_server.url)


PAGES = {
    "police": [
        "/",
        "/sites/",
        "/sites/{site}",
        "/buildings/{building}",
        "/inspections/due",
        "/hazards/",
        "/assessments/",
        "{inspection}",
        "/residents/",
        "/residents/new",
        "/residents/import",
        "/compliance/",
        "/dashboard/",
        "/reviews/",
        "/notifications/",
        "/audit/",
    ],
    "coordinator": [
        "/",
        "/duties/",
        "/duties/new",
        "/duties/reports",
        "/duties/leaderboard",
        "/reviews/",
        "/dashboard/",
    ],
    "landlord": [
        "/",
        "/sites/",
        "/sites/{site}",
        "/hazards/",
        "/assessments/",
        "/associations/",
        "/residents/",
        "/residents/new",
        "/residents/import",
        "/residents/due",
        "/assessments/due",
    ],
    "volunteer": [
        "/",
        "/sites/",
        "/hazards/",
        "/duties/",
        "/duties/mine",
        "/duties/calendar",
        "/duties/leaderboard",
        "/notifications/",
    ],
    "association": ["/", "/associations/", "/reviews/", "/dashboard/", "/compliance/"],
    "property": ["/", "/residents/", "/hazards/"],
    "enterprise": ["/", "/residents/", "/residents/import"],
    "admin": ["/admin/users", "/admin/orgs", "/admin/orgs/{org}", "/admin/areas"],
}


@pytest.mark.parametrize("username", list(PAGES))
def test_main_pages_fit_a_phone_and_pass_axe(
    make_page, live_server, login_as, new_site, new_team, username
):
    # Long names and a room edited in place are the usual culprits.
    site = new_site(
        name="一个名字特别特别长的出租房屋测试楼盘用来检查手机上的换行情况",
        rooms=(("101", 2, 5), ("2015-北-东侧", 12, 12)),
    )
    team = new_team(with_member=True)
    page = make_page(js=True, viewport=PHONE)
    login_as(page, username)
    values = {"site": site.id, "building": site.building_id, "org": team.org_id}
    faults: list[str] = []
    # The header's menu, open (closed, its entries are hidden from axe too).
    page.locator(".site-header .nav-menu > summary").click()
    expect(page.locator(".site-header .nav-panel")).to_be_visible()
    faults += accessibility_faults(page, "the open menu")
    for path in PAGES[username]:
        if path == "{inspection}":
            path = start_inspection(page, live_server, site)
        else:
            page.goto(path.format(**values))
        page.wait_for_load_state("load")
        fits(page, path)
        # No one-character-per-line names: a card's title is as wide as the card.
        for title in page.locator("table.cards td.card-title").all()[:5]:
            box = title.bounding_box()
            assert box and box["width"] > PHONE["width"] / 2, f"{path}: a squeezed card title"
        faults += accessibility_faults(page, path)
    assert not faults, "axe-core found:\n" + "\n".join(faults)


def test_the_axe_check_names_a_serious_fault_and_its_page(make_page):
    page = make_page(js=True, viewport=PHONE)
    page.goto("/login")
    assert accessibility_faults(page, "/login") == []
    # A region scrolling sideways that no key can reach, as /residents/import had.
    page.evaluate(
        """() => {
            const box = document.createElement("div");
            box.id = "unreachable";
            box.style.overflowX = "auto";
            box.style.width = "100px";
            const wide = document.createElement("p");
            wide.textContent = "site_id,building,room,name,id_number,phone,move_in";
            wide.style.whiteSpace = "nowrap";
            box.append(wide);
            document.querySelector("main").append(box);
        }"""
    )
    faults = accessibility_faults(page, "/login")
    assert faults == [
        "/login: serious scrollable-region-focusable"
        " (Scrollable region must have keyboard access) at #unreachable"
    ]


def test_lists_are_cards_with_labels_on_a_phone(make_page, login_as, new_site):
    site = new_site(rooms=(("101", 2, 1),))
    page = make_page(js=True, viewport=PHONE)
    login_as(page, "landlord")
    page.goto(f"/buildings/{site.building_id}")
    row = page.locator("#rooms tbody tr[id^='room-']").first
    # The header row is not shown; each value carries its label instead.
    expect(page.locator("#rooms thead th").first).not_to_be_visible()
    beds = row.locator("td[data-label]").first
    label = beds.evaluate("td => getComputedStyle(td, '::before').content")
    assert label.strip('"') == beds.get_attribute("data-label")
    # Cells stack one under another, each as wide as the card.
    boxes = [td.bounding_box() for td in row.locator("td").all()[:3]]
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]


def test_filters_fold_on_a_phone_and_results_come_first(make_page, login_as):
    page = make_page(js=True, viewport=PHONE)
    login_as(page, "police")
    page.goto("/sites/")
    toggle = page.locator("#site-filters details.filters")
    expect(toggle).not_to_have_attribute("open", "")
    expect(page.locator("#site-filters select[name=area_id]")).not_to_be_visible()
    summary = toggle.locator("summary")
    expect(summary).to_be_visible()
    assert summary.bounding_box()["height"] >= TAP
    # The first result is on the first screen.
    first = page.locator("#site-results tbody tr").first
    expect(first).to_be_visible()
    assert first.bounding_box()["y"] < PHONE["height"], "the results start below the fold"

    summary.click()
    expect(page.locator("#site-filters select[name=area_id]")).to_be_visible()


def test_filters_stay_open_on_a_wide_screen_and_when_a_filter_is_active(make_page, login_as):
    wide = make_page(js=False, viewport={"width": 1280, "height": 800})
    login_as(wide, "police")
    wide.goto("/sites/")
    expect(wide.locator("#site-filters select[name=area_id]")).to_be_visible()
    expect(wide.locator("#site-filters details.filters > summary")).not_to_be_visible()

    phone = make_page(js=False, viewport=PHONE)
    login_as(phone, "police")
    phone.goto("/sites/?admitted=no")
    expect(phone.locator("#site-filters select[name=admitted]")).to_be_visible()


def test_tap_targets_are_at_least_44px_high(make_page, live_server, login_as, new_site):
    site = new_site(rooms=(("101", 2, 1),))
    page = make_page(js=True, viewport=PHONE)
    login_as(page, "police")
    header = page.locator(".site-header")
    bar = [
        *header.locator(".nav-primary a").all(),
        header.get_by_test_id("bell"),
        header.locator(".nav-menu > summary"),
    ]
    header.locator(".nav-menu > summary").click()
    targets = [
        *bar,
        *header.locator(".nav-links a").all(),
        header.get_by_test_id("logout"),
        *header.locator(".lang-form button").all(),
    ]
    assert len(targets) >= 8
    for target in targets:
        box = target.bounding_box()
        assert box["height"] >= TAP, f"{target} is {box['height']}px high"

    start_inspection(page, live_server, site)
    labels = page.locator(".check-item fieldset.radios label")
    assert labels.count() >= 3
    for label in labels.all()[:6]:
        assert label.bounding_box()["height"] >= TAP

    landlord = make_page(js=True, viewport=PHONE)
    login_as(landlord, "landlord")
    landlord.goto(f"/buildings/{site.building_id}")
    edit = landlord.locator("#rooms a[href$='/edit']").first
    assert edit.bounding_box()["height"] >= TAP


def test_inspection_footer_stays_on_screen_and_asks_before_completing(
    make_page, live_server, login_as, new_site
):
    site = new_site()
    page = make_page(js=True, viewport=PHONE)
    login_as(page, "police")
    url = start_inspection(page, live_server, site)
    button = page.locator("#inspection-summary form[action$='/complete'] button[type=submit]")

    def on_screen() -> bool:
        box = button.bounding_box()
        return box is not None and 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"]

    assert on_screen(), "the Complete button is not on the first screen"
    page.locator(".check-item").nth(4).scroll_into_view_if_needed()
    assert on_screen(), "the Complete button scrolled away"
    expect(page.locator("#inspection-summary [data-count=unanswered]")).to_be_visible()

    # Dismissing the question completes nothing.
    questions: list[str] = []

    def dismiss(dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    button.click()
    expect(page.locator(".check-item form").first).to_be_visible()
    assert len(questions) == 1 and questions[0]
    assert page.url == live_server.url + url


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_adding_a_room_shows_the_success_message(make_page, login_as, new_site, js):
    site = new_site()
    page = make_page(js=js, viewport=PHONE)
    login_as(page, "landlord")
    page.goto(f"/buildings/{site.building_id}")
    if js:
        # What the button looks like while the request is in flight.
        page.evaluate(
            """() => document.addEventListener("htmx:beforeSend", () => {
                const b = document.querySelector("#room-form button[type=submit]");
                window.__inflight = {disabled: b.disabled, busy: b.getAttribute("aria-busy")};
            })"""
        )
    form = page.locator("#room-form")
    form.locator("input[name=number]").fill("808")
    form.locator("input[name=beds]").fill("2")
    form.locator("input[name=occupants]").fill("1")
    form.locator("button[type=submit]").click()

    expect(page.locator("#rooms tbody tr", has_text="808")).to_be_visible()
    if js:
        toast = page.locator("#toast [role=status]")
        expect(toast).to_be_visible()
        expect(toast).to_have_text(re.compile(r"\S"))
        message = toast.inner_text()
        assert page.evaluate("window.__inflight") == {"disabled": True, "busy": "true"}
        expect(page.locator("#room-form button[type=submit]")).to_be_enabled()
        # Focus moved to the updated list, not left on a button that is gone.
        # (after htmx's settle step, so wait for it rather than race it)
        page.wait_for_function(
            "document.getElementById('rooms').contains(document.activeElement)", timeout=3000
        )
        fits(page, "the building page with the toast")
        # The toast goes away by itself.
        expect(page.locator("#toast")).to_be_hidden(timeout=8_000)
        # The message is the one a plain form gets as a flash.
        plain = make_page(js=False, viewport=PHONE)
        login_as(plain, "landlord")
        plain.goto(f"/buildings/{site.building_id}")
        plain_form = plain.locator("#room-form")
        plain_form.locator("input[name=number]").fill("809")
        plain_form.locator("input[name=beds]").fill("1")
        plain_form.locator("input[name=occupants]").fill("1")
        plain_form.locator("button[type=submit]").click()
        expect(plain.locator("#flashes .flash-success")).to_have_text(message)
    else:
        expect(page.locator("#flashes .flash-success")).to_be_visible()
        expect(page.locator("#toast")).to_be_hidden()


def test_ticking_a_checklist_item_shows_the_toast_and_keeps_focus_on_the_item(
    make_page, live_server, login_as, new_site
):
    site = new_site()
    page = make_page(js=True, viewport=PHONE)
    login_as(page, "police")
    start_inspection(page, live_server, site)
    item = page.locator(".check-item").first
    item_id = item.get_attribute("id")
    item.locator("label", has_text=re.compile(".")).first.click()
    expect(page.locator(f"#{item_id}")).to_have_class(re.compile(r"\bcheck-"))
    expect(page.locator("#toast [role=status]")).to_be_visible()
    expect(page.locator("#inspection-summary [data-count=passed]")).to_have_text("1")
    # The refresh of the summary (an event listener) does not take the focus away.
    focused = page.evaluate(
        f"document.getElementById('{item_id}').contains(document.activeElement)"
    )
    assert focused, "focus left the ticked item"


def overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_the_toast_covers_neither_the_title_nor_the_header_nor_the_footer(
    make_page, live_server, login_as, new_site
):
    site = new_site()
    page = make_page(js=True, viewport=PHONE)
    login_as(page, "landlord")
    page.goto(f"/buildings/{site.building_id}")
    form = page.locator("#room-form")
    form.locator("input[name=number]").fill("606")
    form.locator("input[name=beds]").fill("2")
    form.locator("input[name=occupants]").fill("1")
    form.locator("button[type=submit]").click()
    toast = page.locator("#toast [role=status]")
    expect(toast).to_be_visible()
    # Where a person looks first: the top of the page, its title and the header.
    page.evaluate("window.scrollTo(0, 0)")
    header = page.locator(".site-header")
    covered = {
        "the page title": page.locator("#main h1").first,
        "the app name": header.locator(".brand"),
        "the bell": header.get_by_test_id("bell"),
        "the menu": header.locator(".nav-menu > summary"),
        **{
            f"the link {a.get_attribute('href')}": a for a in header.locator(".nav-primary a").all()
        },
    }
    box = toast.bounding_box()
    for what, locator in covered.items():
        assert not overlaps(box, locator.bounding_box()), f"the toast covers {what}"

    # On the open inspection, the toast stays above the summary and Complete button
    # kept at the bottom of the screen.
    police = make_page(js=True, viewport=PHONE)
    login_as(police, "police")
    start_inspection(police, live_server, new_site())
    police.locator(".check-item").first.locator("label", has_text=re.compile(".")).first.click()
    toast = police.locator("#toast [role=status]")
    expect(toast).to_be_visible()
    box = toast.bounding_box()
    complete = police.locator("#inspection-summary form[action$='/complete'] button[type=submit]")
    assert not overlaps(box, complete.bounding_box()), "the toast covers the Complete button"
    assert not overlaps(box, police.locator("#main h1").first.bounding_box())
