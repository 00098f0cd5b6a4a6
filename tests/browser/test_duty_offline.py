"""The volunteer without signal, in Chromium at 360 px with Playwright's offline mode
and geolocation: steps made offline are kept on the phone (待上传), sent once when
the connection returns with their original times; a connection cut in the middle of
a send, a queue replayed twice and a phone clock a day off lose nothing and store
nothing twice; the service worker never serves one user's page to another."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select, update

from community.accounts.models import User
from community.core.timeutil import utcnow
from community.duty import services
from community.duty.models import (
    CheckpointVisit,
    DutyCheckpoint,
    DutyClaim,
    DutyOfflineAction,
    DutyTask,
)
from community.extensions import db
from community.hazards.models import Hazard
from tests.browser.conftest import PHONE
from tests.browser.helpers import login
from tests.browser.test_duty import PASSWORD, _fresh_volunteer_and_duty
from tests.factories.hazards import image_bytes

pytestmark = pytest.mark.browser
WHERE = {"latitude": 28.0, "longitude": 120.6}


def _on_duty_world(live_server):
    """A fresh volunteer of 东村社区 holding a claim on a duty starting in 10 minutes
    (check-in open; checkpoints 东门岗亭, 南门路口): test_duty's world, claimed, the
    duty full."""
    username, task_id, _day = _fresh_volunteer_and_duty(live_server)
    with live_server.app.app_context():
        s = db.session
        user = s.scalar(select(User).where(User.username == username))
        claim = services.claim_duty(s, user, s.get(DutyTask, task_id))
        # Full: other tests' volunteers are not offered it among the duties nearby.
        s.execute(update(DutyTask).where(DutyTask.id == task_id).values(capacity=1))
        s.commit()
        ids = {"username": username, "task": task_id, "claim": claim.id}
        s.remove()
    return ids


class Watch:
    """Page errors and CSP violations (failed requests are expected offline)."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda exc: self.found.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.found.append(msg.text) if "Content Security Policy" in msg.text else None
            ),
        )


@pytest.fixture
def phone(browser: Browser, live_server):
    contexts: list[BrowserContext] = []
    watch = Watch()

    def make() -> tuple[BrowserContext, Page]:
        context = browser.new_context(
            base_url=live_server.url,
            viewport=PHONE,
            geolocation=WHERE,
            permissions=["geolocation"],
        )
        context.set_default_timeout(8_000)
        contexts.append(context)
        page = context.new_page()
        watch.watch(page)
        return context, page

    yield make
    for context in contexts:
        context.close()
    assert not watch.found, "\n".join(watch.found)


def _worker_ready(page: Page) -> None:
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")


def _open_claim(page: Page, claim_id: int) -> None:
    page.goto(f"/duties/claims/{claim_id}")
    _worker_ready(page)
    # Loaded again under the worker: it keeps this page for offline reading.
    page.goto(f"/duties/claims/{claim_id}")


def _rows(live_server, model, **where):
    with live_server.app.app_context():
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        count = db.session.scalar(query)
        db.session.remove()
    return count


def test_steps_made_offline_wait_then_are_saved_once_with_their_times(phone, live_server, tmp_path):
    world = _on_duty_world(live_server)
    context, page = phone()
    login(page, world["username"], PASSWORD)
    _open_claim(page, world["claim"])
    photo = tmp_path / "hazard.jpg"
    photo.write_bytes(image_bytes())

    context.set_offline(True)
    made_before = utcnow()
    page.locator("[data-testid=check-in]").click()
    count = page.locator("[data-queue-count]")
    expect(count).to_have_text("1")
    ticks = page.locator("[data-testid=tick]")
    ticks.first.click()
    expect(count).to_have_text("2")
    page.locator("[data-testid=tick]").first.click()
    expect(count).to_have_text("3")
    expect(page.locator("[data-testid=ticked-pending]")).to_have_count(2)
    page.fill("textarea[name=report]", "一切正常，发现一处隐患")
    page.locator(".check-out details summary").click()
    page.fill("textarea[name=hazard_description]", "楼道堆放杂物")
    page.select_option("select[name=hazard_site_id]", index=1)
    page.set_input_files("input[name=hazard_photo]", str(photo))
    page.locator("[data-testid=check-out]").click()
    expect(count).to_have_text("4")
    expect(page.locator("[data-testid=queue-items] li")).to_have_count(4)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert _rows(live_server, DutyOfflineAction, claim_id=world["claim"]) == 0

    # Still offline, the page opens again from the phone, with what waits.
    page.reload()
    expect(page.locator("[data-queue-count]")).to_have_text("4")
    expect(page.locator("[data-testid=ticked-pending]")).to_have_count(2)
    time.sleep(1.5)

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("[data-testid=claim-status]")).to_have_text("上报", timeout=15_000)
    expect(page.locator("[data-offline-queue]")).to_be_hidden()

    with live_server.app.app_context():
        s = db.session
        claim = s.get(DutyClaim, world["claim"])
        assert claim.status == "reported" and claim.report == "一切正常，发现一处隐患"
        visits = s.scalars(
            select(CheckpointVisit)
            .where(CheckpointVisit.claim_id == claim.id)
            .order_by(CheckpointVisit.visited_at)
        ).all()
        names = [s.get(DutyCheckpoint, v.checkpoint_id).name for v in visits]
        assert names == ["东门岗亭", "南门路口"]
        # Their original times: made offline, received more than a second later.
        assert made_before - timedelta(seconds=1) <= claim.checked_in_at
        assert all(v.received_at - v.visited_at > timedelta(seconds=1) for v in visits)
        assert claim.checked_in_at <= visits[0].visited_at <= visits[1].visited_at
        assert visits[1].visited_at <= claim.checked_out_at
        actions = s.scalars(
            select(DutyOfflineAction).where(DutyOfflineAction.claim_id == claim.id)
        ).all()
        assert len(actions) == 4 and all(a.server_at > a.applied_at for a in actions)
        hazards = s.scalars(select(Hazard).where(Hazard.description == "楼道堆放杂物")).all()
        assert len(hazards) == 1 and hazards[0].photo
        s.remove()


def test_cut_mid_send_replays_and_a_day_off_clock_lose_nothing_and_store_nothing_twice(
    phone, live_server
):
    world = _on_duty_world(live_server)
    context, page = phone()
    # The phone's clock runs a day ahead of the server's.
    context.add_init_script(
        "(() => { const real = Date.now; Date.now = () => real() + 86400000; })()"
    )
    login(page, world["username"], PASSWORD)
    _open_claim(page, world["claim"])

    # The check-in reaches the server, but its answer never comes back.
    cut = {"n": 0}

    def cut_first_answer(route):
        if route.request.method == "POST" and cut["n"] == 0:
            cut["n"] += 1
            route.fetch()  # the server applies it
            route.abort("connectionreset")
            return
        route.continue_()

    page.route("**/check-in", cut_first_answer)
    page.locator("[data-testid=check-in]").click()
    expect(page.locator("[data-testid=claim-status]")).to_have_text("执勤中", timeout=15_000)
    assert cut["n"] == 1
    expect(page.locator("[data-offline-queue]")).to_be_hidden()

    # A tick made offline, then the queue sent twice over (the same item queued
    # twice, as a phone that lost the first answer would).
    context.set_offline(True)
    page.locator("[data-testid=tick]").first.click()
    expect(page.locator("[data-queue-count]")).to_have_text("1")
    page.evaluate(
        """() => CommunityQueue.items(document.querySelector('meta[name=community-offline]')
             .dataset.user).then(items => {
               const copy = Object.assign({}, items[0]);
               delete copy.id;
               return CommunityQueue.add(copy);
             })"""
    )
    expect(page.locator("[data-queue-count]")).to_have_text("1")  # shown at the next render
    page.evaluate("window.dispatchEvent(new Event('offline'))")
    expect(page.locator("[data-queue-count]")).to_have_text("2")
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("[data-testid=ticked]")).to_have_count(1, timeout=15_000)
    expect(page.locator("[data-offline-queue]")).to_be_hidden()

    with live_server.app.app_context():
        s = db.session
        claim = s.get(DutyClaim, world["claim"])
        assert claim.status == "on_duty"
        visits = s.scalars(
            select(CheckpointVisit).where(CheckpointVisit.claim_id == claim.id)
        ).all()
        assert len(visits) == 1
        actions = s.scalars(
            select(DutyOfflineAction).where(DutyOfflineAction.claim_id == claim.id)
        ).all()
        assert sorted(a.action for a in actions) == ["check_in", "visit"]
        # The day-ahead clock was caught and the times put back on the server's.
        assert all("clock_off" in (a.flags or "") for a in actions)
        now = utcnow()
        assert abs(claim.checked_in_at - now) < timedelta(minutes=2)
        assert abs(visits[0].visited_at - now) < timedelta(minutes=2)
        s.remove()

    # The coordinator sees the times flagged.
    _ctx, coordinator = phone()
    login(coordinator, "coordinator", live_server.passwords["coordinator"])
    coordinator.goto(f"/duties/{world['task']}")
    expect(coordinator.locator(f"#claim-{world['claim']} [data-testid=time-flag]")).to_be_visible()


def test_cache_never_serves_one_users_page_to_another_after_logout(phone, live_server):
    first = _on_duty_world(live_server)
    second = _on_duty_world(live_server)
    context, page = phone()
    login(page, first["username"], PASSWORD)
    _open_claim(page, first["claim"])
    page.goto("/duties/mine")
    title = page.locator("h1").inner_text()
    assert page.evaluate("caches.keys()").count("pages-" + _user_key(page)) == 1

    # Offline, the first volunteer's pages are there for them.
    context.set_offline(True)
    page.goto(f"/duties/claims/{first['claim']}")
    expect(page.locator("[data-testid=on-duty]")).to_be_visible()
    context.set_offline(False)

    page.goto("/duties/mine")
    page.locator("[data-testid=menu] summary").click()
    with page.expect_navigation():
        page.locator("[data-testid=logout]").click()
    assert not [k for k in page.evaluate("caches.keys()") if k.startswith("pages-")]

    # Logged out and offline: nothing of theirs comes out of the cache.
    context.set_offline(True)
    page.goto(f"/duties/claims/{first['claim']}")
    expect(page.locator("[data-testid=offline-page]")).to_be_visible()
    page.goto("/duties/mine")
    expect(page.locator("[data-testid=offline-page]")).to_be_visible()
    context.set_offline(False)

    # Another volunteer on the same phone: their own pages only.
    login(page, second["username"], PASSWORD)
    _open_claim(page, second["claim"])
    context.set_offline(True)
    page.goto(f"/duties/claims/{first['claim']}")
    expect(page.locator("[data-testid=offline-page]")).to_be_visible()
    page.goto(f"/duties/claims/{second['claim']}")
    expect(page.locator("[data-testid=on-duty]")).to_be_visible()
    assert page.locator("h1").inner_text() != title
    keys = [k for k in page.evaluate("caches.keys()") if k.startswith("pages-")]
    assert len(keys) == 1


def _user_key(page: Page) -> str:
    return page.evaluate("document.querySelector('meta[name=community-offline]').dataset.user")


def test_manifest_and_worker_make_the_app_installable(phone, live_server):
    world = _on_duty_world(live_server)
    context, page = phone()
    login(page, world["username"], PASSWORD)
    page.goto("/duties/mine")
    _worker_ready(page)
    cdp = context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert not manifest.get("errors"), manifest.get("errors")
    parsed = manifest["data"]
    for field in ('"name"', '"short_name"', '"start_url"', '"theme_color"', '"icons"'):
        assert field in parsed
    # Chromium's own installability check (the beforeinstallprompt criteria:
    # manifest fields, a 144 px+ icon that loads, a worker with a fetch handler).
    # A Playwright context is an incognito profile, where Chromium never offers to
    # install; that is the one error allowed.
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [e for e in errors if e["errorId"] != "in-incognito"] == [], errors
    registration = page.evaluate(
        "navigator.serviceWorker.getRegistration().then(r => [r.scope, r.active.scriptURL])"
    )
    assert registration == [live_server.url + "/", live_server.url + "/sw.js"]
    sizes = page.evaluate(
        """() => fetch('/manifest.webmanifest').then(r => r.json()).then(m => Promise.all(
             m.icons.filter(i => i.type === 'image/png').map(i => new Promise(ok => {
               const img = new Image(); img.onload = () => ok(img.naturalWidth); img.src = i.src;
             }))))"""
    )
    assert sorted(sizes) == [192, 512]


def test_route_is_recorded_with_consent_and_the_coordinator_sees_it(phone, live_server):
    from community.duty.models import DutyTrackPoint

    world = _on_duty_world(live_server)
    context, page = phone()
    login(page, world["username"], PASSWORD)
    _open_claim(page, world["claim"])
    page.locator("[data-testid=check-in]").click()
    expect(page.locator("[data-testid=claim-status]")).to_have_text("执勤中")
    with page.expect_navigation():
        page.locator("[data-testid=track-yes]").click()
    expect(page.locator("[data-testid=tracking]")).to_be_visible()
    # Walking north, 33 m a step: each step is kept (thinned at 20 m).
    for step in range(1, 7):
        context.set_geolocation(
            {"latitude": WHERE["latitude"] + step * 0.0003, "longitude": WHERE["longitude"]}
        )
        time.sleep(0.3)
    page.locator("[data-testid=tick]").first.click()
    expect(page.locator("[data-testid=ticked]")).to_have_count(1)
    page.locator("[data-testid=tick]").first.click()
    expect(page.locator("[data-testid=ticked]")).to_have_count(2)
    deadline = time.monotonic() + 10
    while _rows(live_server, DutyTrackPoint, claim_id=world["claim"]) < 5:
        assert time.monotonic() < deadline, "no batch of positions arrived"
        time.sleep(0.3)

    _ctx, coordinator = phone()
    login(coordinator, "coordinator", live_server.passwords["coordinator"])
    coordinator.goto(f"/duties/{world['task']}")
    card = coordinator.locator(f"#claim-{world['claim']}")
    expect(card.locator("[data-testid=route-line]")).to_be_attached()
    expect(card.locator("[data-testid=route-ticks] li")).to_have_text(
        [re.compile("^东门岗亭"), re.compile("^南门路口")]
    )
    assert re.match(r"已走 0\.\d\d 公里", card.locator("[data-testid=route-distance]").inner_text())
    coordinator.goto("/duties/patrols")
    patrols = coordinator.locator("[data-testid=patrol]").filter(has_text="浏览器巡逻")
    expect(patrols).not_to_have_count(0)
    expect(coordinator.locator("[data-testid=last-seen]").first).to_be_visible()


def test_a_step_that_can_no_longer_be_applied_is_shown_with_its_reason_until_dismissed(
    phone, live_server
):
    world = _on_duty_world(live_server)
    context, page = phone()
    login(page, world["username"], PASSWORD)
    _open_claim(page, world["claim"])
    context.set_offline(True)
    page.locator("[data-testid=check-in]").click()
    expect(page.locator("[data-queue-count]")).to_have_text("1")
    # Meanwhile the coordinator cancels the duty.
    with live_server.app.app_context():
        s = db.session
        coordinator = s.scalar(select(User).where(User.username == "coordinator"))
        services.cancel_duty(s, coordinator, s.get(DutyTask, world["task"]))
        s.commit()
        s.remove()
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    refused = page.locator("[data-testid=queue-refused] li")
    expect(refused).to_have_count(1, timeout=15_000)
    expect(refused).to_have_attribute("data-reason", "duty_cancelled")
    expect(refused).to_contain_text("这次执勤已取消：未采用。")
    expect(page.locator("[data-testid=queue-count]")).to_be_hidden()
    page.reload()
    expect(page.locator("[data-testid=queue-refused] li")).to_have_count(1)
    page.locator("[data-testid=queue-refused] li button").click()
    expect(page.locator("[data-testid=queue-refused] li")).to_have_count(0)
    expect(page.locator("[data-offline-queue]")).to_be_hidden()
    assert _rows(live_server, DutyOfflineAction, claim_id=world["claim"]) == 0
