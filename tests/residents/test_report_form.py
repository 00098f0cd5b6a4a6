"""The report form's steps (site -> building -> room): with htmx a step answers the
picker alone, which replaces itself; without it the whole page. After every step
and after an invalid POST the page holds one details form, one submit button and
no id twice."""

from __future__ import annotations

import re
from collections import Counter

from community.core.timeutil import today
from tests.conftest import csrf_from
from tests.factories.residents import id_number


def _ids(html: str) -> Counter:
    return Counter(re.findall(r'\sid="([^"]+)"', html))


def _one_form(html: str) -> None:
    assert html.count('id="report-form"') == 1 and html.count('id="room-picker"') == 1
    assert html.count(">Report resident</button>") == 1
    assert html.count('data-step="next">Next step</button>') == 1
    assert html.count('name="id_number"') == 1
    assert not [i for i, n in _ids(html).items() if n > 1]


def test_a_site_step_with_htmx_answers_the_picker_alone(world, client, login, htmx_client):
    login(world.landlord)
    resp = htmx_client.get(f"/residents/rooms?site_id={world.site.id}")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="room-picker"') and body.rstrip().endswith("</div>")
    assert 'name="building_id"' in body and 'name="room_id"' not in body
    assert 'id="report-form"' not in body and 'name="id_number"' not in body
    assert 'type="submit"' in body and ">Next step</button>" in body
    assert "HX-Request" in resp.headers.get("Vary", "")


def test_a_building_step_with_htmx_gives_the_room_to_the_details_form(
    world, client, login, htmx_client
):
    login(world.landlord)
    body = htmx_client.get(
        f"/residents/rooms?site_id={world.site.id}&building_id={world.building.id}"
    ).get_data(as_text=True)
    assert body.lstrip().startswith('<div id="room-picker"')
    select = re.search(r'<select[^>]*name="room_id"[^>]*>', body).group(0)
    assert 'form="report-form"' in select and ">101<" in body
    assert 'id="report-form"' not in body and "Report resident" not in body
    assert not [i for i, n in _ids(body).items() if n > 1]


def test_every_step_without_htmx_is_the_whole_page_with_one_form(world, client, login):
    login(world.landlord)
    for path in (
        "/residents/new",
        f"/residents/new?site_id={world.site.id}",
        f"/residents/new?site_id={world.site.id}&building_id={world.building.id}",
        f"/residents/rooms?site_id={world.site.id}&building_id={world.building.id}",
        f"/residents/new?room_id={world.room2.id}",
    ):
        resp = client.get(path)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "<html" in html, path
        _one_form(html)


def test_an_invalid_report_keeps_one_form_plain_and_with_htmx(world, client, login, htmx_client):
    login(world.landlord)
    token = csrf_from(client.get("/residents/new").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "room_id": world.room.id,
        "name": "",
        "id_number": id_number(),
        "phone": "13812345678",
        "move_in": today().isoformat(),
    }
    plain = client.post("/residents/new", data=data)
    assert plain.status_code == 422
    _one_form(plain.get_data(as_text=True))
    frag = htmx_client.post("/residents/new", data=data)
    body = frag.get_data(as_text=True)
    assert frag.status_code == 422 and "<html" not in body
    assert body.lstrip().startswith('<section id="report">')
    _one_form(body)
    assert re.search(
        rf'<option selected value="{world.room.id}"|value="{world.room.id}" selected', body
    )


def test_the_step_button_reads_next_step_in_chinese(world, app, login, client):
    login(world.landlord)
    with client.session_transaction() as sess:
        sess["locale"] = "zh_CN"
    html = client.get(f"/residents/new?site_id={world.site.id}").get_data(as_text=True)
    assert re.search(r'data-step="next">下一步</button>', html)
    assert "下一页" not in html
