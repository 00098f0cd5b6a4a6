"""A landlord's template journey on a 360 px phone, with and without JavaScript:
open the import page, choose the site and download its xlsx template, fill it (as
a user would, with openpyxl: two residents and a passport without its country),
upload it, and read on the page what was imported and the refused row with its
line and reason. A worker thread (as `flask worker` beside the server) imports."""

from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta

import openpyxl
import pytest
from playwright.sync_api import expect

from community.core.timeutil import today
from community.residents.imports.columns import FIELDS
from tests.browser.conftest import PHONE
from tests.browser.helpers import wait_for_import
from tests.factories.residents import id_number

pytestmark = pytest.mark.browser

_serial = itertools.count(700)


def _filled(template: bytes, site_id: int, building: str) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book["住户登记"]
    yesterday = datetime.combine(today() - timedelta(days=1), datetime.min.time())
    rows = [
        {
            "site_id": str(site_id),
            "building": building,
            "room": f"{building}/101",
            "name": "模板甲",
            "id_number": id_number(serial=next(_serial)),
            "phone": "13812345678",
            "move_in": yesterday,
            "document_type": "居民身份证",
        },
        {
            "site_id": str(site_id),
            "room": f"{building}/102",
            "name": "模板乙",
            "id_number": id_number(serial=next(_serial)),
            "move_in": yesterday,
        },
        {  # line 4: a passport without the country that issued it
            "site_id": str(site_id),
            "room": f"{building}/101",
            "id_number": f"E{next(_serial):08d}",
            "move_in": yesterday,
            "document_type": "护照",
            "latin_name": "KIM MINSU",
            "gender": "男",
            "birth_date": datetime(1988, 8, 8),
        },
    ]
    for offset, values in enumerate(rows):
        for field, value in values.items():
            sheet.cell(row=2 + offset, column=FIELDS.index(field) + 1, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_landlord_downloads_fills_and_uploads_the_template(
    make_page, live_server, worker, login_as, new_site, js, tmp_path
):
    site = new_site(rooms=(("101", 2, 2), ("102", 2, 1)))
    page = make_page(js=js, viewport=PHONE)
    login_as(page, "landlord")
    page.goto("/residents/import")
    form = page.locator("[data-testid=import-template]")
    expect(form).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    form.locator("select[name=site_id]").select_option(str(site.id))
    with page.expect_download() as downloading:
        form.get_by_role("button", name="下载模板").click()
    download = downloading.value
    assert download.suggested_filename == f"住户登记模板-{site.name}.xlsx"
    saved = tmp_path / "template.xlsx"
    download.save_as(saved)
    data = _filled(saved.read_bytes(), site.id, site.building_name)

    page.set_input_files(
        "input[name=file]",
        files=[{"name": "住户登记.xlsx", "mimeType": "application/octet-stream", "buffer": data}],
    )
    page.locator("#import button[type=submit]").click()
    wait_for_import(page, js)
    summary = page.locator("#import-progress dl")
    expect(summary).to_contain_text("已导入2")
    expect(summary).to_contain_text("未导入1")
    refused = page.locator("[data-testid=refused-rows] tbody tr")
    expect(refused).to_have_count(1)
    expect(refused.first).to_contain_text("第 4 行")
    expect(refused.first).to_contain_text("请选择护照签发国家或地区。")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
