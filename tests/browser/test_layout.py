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


def test_a_card_label_on_two_lines_makes_its_line_taller(make_page, live_server, new_site):
    """A long label (已核实 / 清点人数 on the building page) wraps onto two lines at 360 px:
    its cell grows with it instead of the label running into the next line."""
    site = new_site(rooms=(("101", 2, 1),))
    page = make_page(js=True, viewport=PHONE)
    login(page, "landlord", live_server.passwords["landlord"])
    page.goto(f"/buildings/{site.building_id}")
    page.wait_for_load_state("load")
    cells = page.evaluate(
        """() => [...document.querySelectorAll("table.cards td[data-label]")]
            .filter(td => td.offsetParent !== null && td.dataset.label)
            .map(td => ({
                label: td.dataset.label,
                cell: td.getBoundingClientRect().height,
                before: parseFloat(getComputedStyle(td, "::before").height),
            }))"""
    )
    assert cells, "no card cells on the building page"
    assert any(c["before"] > 30 for c in cells), "no label wraps: the test shows nothing"
    overlapping = [c for c in cells if c["before"] > c["cell"] + 0.5]
    assert not overlapping, overlapping
