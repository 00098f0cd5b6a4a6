"""An enterprise clerk's journey on a 360 px phone, with and without JavaScript: log
in, open the import from the residents list, upload a CSV with three good rows and
two bad ones (a wrong check digit, an unreadable date), wait for the end, and read
the refused rows on the page (masked ID number, the reasons) with the download —
and no "正在导入" notice left once the import is over. A worker (core.jobs.work, in a
thread, as `flask worker` runs beside the server) does the import; the page only
watches, and closing it changes nothing."""

from __future__ import annotations

import csv
import io
import itertools
import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from community.core.timeutil import today
from community.extensions import db
from community.residents.imports import HEADER
from tests.browser.conftest import PHONE
from tests.browser.helpers import wait_for_import
from tests.factories.residents import id_number

pytestmark = pytest.mark.browser

_serial = itertools.count(900)
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def _dormitory(live_server) -> int:
    from community.places.demo import DORMITORY
    from community.places.models import Site

    with live_server.app.app_context():
        site_id = db.session.scalar(select(Site.id).where(Site.name == DORMITORY))
        db.session.remove()
    return site_id


def _file(site_id: int) -> tuple[bytes, str]:
    """Three good rows, then a wrong check digit (line 5) and an unreadable date (line 6)."""
    day = today() - timedelta(days=1)
    good = [id_number(serial=next(_serial)) for _ in range(3)]
    wrong = id_number(serial=next(_serial))
    wrong = wrong[:17] + ("0" if wrong[17] != "0" else "1")
    rows = [
        [site_id, "宿舍楼", "101", "员工甲", good[0], "13812345678", day.isoformat(), "", ""],
        [site_id, "宿舍楼", "102", "员工乙", good[1], "", f"{day:%Y/%m/%d}", "", ""],
        [site_id, "宿舍楼", "103", "员工丙", good[2], "", f"{day:%Y%m%d}", "", ""],
        [site_id, "宿舍楼", "104", "员工丁", wrong, "", day.isoformat(), "", ""],
        [site_id, "宿舍楼", "105", "员工戊", id_number(serial=next(_serial)), "", "下周一", "", ""],
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8"), wrong


def _serious_axe_violations(page: Page) -> list[str]:
    """axe-core (npm, dev dependency) on the page as it is: serious and critical only."""
    if not AXE.exists():  # as in test_phone: a missing axe-core fails, it never skips
        pytest.fail(f"{AXE} is missing: run `make assets` (npm ci) first")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => JSON.stringify((await axe.run(document)).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
    )
    return json.loads(result)


def test_enterprise_clerk_imports_a_file_with_bad_rows(
    make_page, live_server, worker, login_as, js
):
    site_id = _dormitory(live_server)
    data, wrong = _file(site_id)
    page = make_page(js=js, viewport=PHONE)
    login_as(page, "enterprise")

    page.goto("/residents/")
    page.locator('#main a[href="/residents/import"]').first.click()
    expect(page.locator("h1")).to_have_text("批量导入居民")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    if js:
        assert _serious_axe_violations(page) == []
    page.set_input_files(
        "input[name=file]", files=[{"name": "员工.csv", "mimeType": "text/csv", "buffer": data}]
    )
    page.locator("#import button[type=submit]").click()

    progress = page.locator("#import-progress")
    if not js:
        expect(page.locator("#flashes")).to_contain_text("文件已收到")
    wait_for_import(page, js)
    summary = progress.locator("dl")
    expect(summary).to_contain_text("已导入3")
    expect(summary).to_contain_text("未导入2")

    refused = page.locator("[data-testid=refused-rows] tbody tr")
    expect(refused).to_have_count(2)
    expect(refused.nth(0)).to_contain_text("第 5 行")
    expect(refused.nth(0)).to_contain_text(f"{wrong[:6]}********{wrong[-4:]}")
    expect(refused.nth(0)).to_contain_text("身份证号码未通过校验，请对照证件逐位核对。")
    expect(refused.nth(1)).to_contain_text("第 6 行")
    expect(refused.nth(1)).to_contain_text("下周一")
    expect(refused.nth(1)).to_contain_text("2026年12月5日 或 20261205")
    assert wrong not in page.content()
    expect(page.locator("#import-progress a[href$='/errors.csv']")).to_be_visible()
    # Nothing says the import is still running.
    expect(page.locator("#main")).not_to_contain_text("正在导入")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    if js:
        assert _serious_axe_violations(page) == []


def test_closing_the_tab_leaves_the_import_to_the_worker(make_page, live_server, worker, login_as):
    from community.residents.imports.models import ImportJob

    data, _wrong = _file(_dormitory(live_server))
    page = make_page(js=True, viewport=PHONE)
    login_as(page, "enterprise")
    page.goto("/residents/import")
    page.set_input_files(
        "input[name=file]", files=[{"name": "关闭.csv", "mimeType": "text/csv", "buffer": data}]
    )
    page.locator("#import button[type=submit]").click()
    page.wait_for_url("**/residents/import/*")
    url = page.url
    job_id = int(url.rstrip("/").rsplit("/", 1)[1])
    page.close()  # nobody watches any more

    def job():
        with live_server.app.app_context():
            found = db.session.get(ImportJob, job_id)
            db.session.remove()
        return found

    for _ in range(100):
        if not job().is_running:
            break
        threading.Event().wait(0.2)
    assert (job().status, job().imported, job().refused) == ("done", 3, 2)
    again = make_page(js=True, viewport=PHONE)
    login_as(again, "enterprise")
    again.goto(url)
    expect(again.locator("#import-progress")).to_contain_text("导入完成")
