"""The pages fit a 360 px phone without sideways scrolling (lists turn into
cards; nothing scrolls sideways, neither the page nor a table)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE
from tests.browser.helpers import login

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "path",
    [
        "/login",
        "/",
        "/admin/orgs",
        "/admin/orgs/1",
        "/admin/users",
    ],
)
def test_page_fits_phone_width(make_page, live_server, path):
    page = make_page(js=True, viewport=PHONE)
    if path != "/login":
        login(page, "admin", live_server.passwords["admin"])
    page.goto(path)
    page.wait_for_load_state("load")

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width}px wide on a 360px phone"
