"""Words in Chinese: a person's name is 姓名 (名称 is for places and organisations)."""

from __future__ import annotations

import csv
import io

from tests.factories.residents import make_residence


def _chinese(client):
    with client.session_transaction() as sess:
        sess["locale"] = "zh_Hans_CN"


def test_the_ledger_heads_peoples_names_with_xingming(client, login, world, session):
    make_residence(session, room=world.room, reporter=world.landlord)
    session.commit()
    login(world.landlord)
    _chinese(client)
    resp = client.get(f"/buildings/{world.building.id}/ledger.csv")
    header = next(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert "姓名" in header and "名称" not in header


def test_the_resident_list_and_report_form_say_xingming(client, login, world, session):
    make_residence(session, room=world.room, reporter=world.landlord)
    session.commit()
    login(world.police)
    _chinese(client)
    listing = client.get("/residents/?status=all").get_data(as_text=True)
    assert "<th>姓名</th>" in listing and "<th>名称</th>" not in listing
