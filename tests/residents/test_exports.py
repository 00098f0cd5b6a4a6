"""The register download (一幢一册) and `flask export-ledger`: masked except for the
police (audited), formulas neutralised, CSV and xlsx."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from sqlalchemy import select

from community.core.models import AuditEvent
from community.residents.exports import neutralise
from tests.factories.residents import id_number, make_residence


def _rows(resp) -> list[list[str]]:
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))


def test_landlord_gets_a_masked_csv(client, login, world, session):
    number = id_number()
    make_residence(session, room=world.room, reporter=world.landlord, number=number)
    session.commit()
    login(world.landlord)
    resp = client.get(f"/buildings/{world.building.id}/ledger.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = _rows(resp)
    assert rows[0][:5] == ["Site", "Building", "Room", "Full name", "ID number"]
    assert rows[1][4] == number[:6] + "********" + number[-4:]
    assert rows[1][5] == "138****5678"
    assert number not in resp.get_data(as_text=True)
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "ledger.exported")) is None


def test_police_get_full_numbers_and_an_audit_event(client, login, world, session):
    number = id_number()
    make_residence(session, room=world.room, reporter=world.landlord, number=number)
    session.commit()
    login(world.police)
    with client.get(f"/sites/{world.site.id}/ledger.xlsx") as resp:
        assert resp.status_code == 200
        data = resp.data
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    values = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    assert values[1][4] == number
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "ledger.exported"))
    assert event.actor_id == world.police.id and number not in str(event.detail)


def test_formula_cells_are_neutralised(client, login, world, session):
    make_residence(session, room=world.room, reporter=world.landlord, name="=HYPERLINK(1)")
    session.commit()
    login(world.landlord)
    rows = _rows(client.get(f"/buildings/{world.building.id}/ledger.csv"))
    assert rows[1][3] == "'=HYPERLINK(1)"
    assert [neutralise(v) for v in ("+1", "-1", "@a", "a=b")] == ["'+1", "'-1", "'@a", "a=b"]


def test_volunteer_may_not_download_the_register(client, login, world):
    login(world.volunteer)
    assert client.get(f"/buildings/{world.building.id}/ledger.csv").status_code == 403


def test_export_ledger_command_writes_a_masked_file(app, world, session, tmp_path):
    number = id_number()
    make_residence(session, room=world.room, reporter=world.landlord, number=number)
    session.commit()
    out = tmp_path / "ledger.xlsx"
    args = ["export-ledger", "--building", str(world.building.id), "--format", "xlsx"]
    result = app.test_cli_runner().invoke(args=[*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out, read_only=True)
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    assert len(rows) == 2 and rows[1][4] != number
    police = app.test_cli_runner().invoke(
        args=[
            "export-ledger",
            "--building",
            str(world.building.id),
            "--format",
            "csv",
            "--as",
            world.police.username,
        ]
    )
    assert police.exit_code == 0 and number in police.output


def _ledger_links(html: str) -> list[str]:
    import re

    block = re.search(r'data-testid="ledger-export".*?</p>', html, re.S)
    return re.findall(r'href="([^"]+)"', block.group(0)) if block else []


@pytest.mark.parametrize("who", ["landlord", "manager", "police"])
def test_building_and_site_pages_offer_the_ledger_to_those_who_may_export(
    client, login, world, session, who
):
    """导出台账 (Export ledger) on both pages for the landlord, the property manager and
    the police; the links download the register (masked for all but the police)."""
    number = id_number()
    make_residence(session, room=world.room, reporter=world.landlord, number=number)
    session.commit()
    building = f"/buildings/{world.building.id}/ledger"
    site = f"/sites/{world.site.id}/ledger"
    login(getattr(world, who))
    page = client.get(f"/buildings/{world.building.id}")
    assert page.status_code == 200
    assert _ledger_links(page.get_data(as_text=True)) == [f"{building}.xlsx", f"{building}.csv"]
    assert "Export ledger" in page.get_data(as_text=True)
    site_page = client.get(f"/sites/{world.site.id}").get_data(as_text=True)
    assert _ledger_links(site_page) == [f"{site}.xlsx", f"{site}.csv"]
    resp = client.get(f"{building}.csv")
    assert resp.status_code == 200
    masked = number[:6] + "********" + number[-4:]
    shown = number if who == "police" else masked
    assert shown in resp.get_data(as_text=True)
    if who != "police":
        assert number not in resp.get_data(as_text=True)


def test_no_ledger_link_for_those_who_may_not_export(client, login, world):
    login(world.volunteer)
    page = client.get(f"/sites/{world.site.id}")
    assert page.status_code == 200
    assert _ledger_links(page.get_data(as_text=True)) == []
    assert "ledger." not in page.get_data(as_text=True)


def test_the_ledger_names_each_document_and_masks_a_passport(client, login, world, session):
    from datetime import date

    make_residence(session, room=world.room, reporter=world.landlord)
    make_residence(
        session,
        room=world.room2,
        reporter=world.landlord,
        name="",
        number="E7654321",
        document_type="passport",
        nationality="JPN",
        latin_name="SATO HANAKO",
        gender="F",
        birth_date=date(1990, 5, 5),
    )
    session.commit()
    login(world.landlord)
    resp = client.get(f"/buildings/{world.building.id}/ledger.csv")
    rows = _rows(resp)
    assert rows[0][-1] == "Identity document"
    by_room = {r[2]: r for r in rows[1:]}
    assert by_room["101"][-1] == "Resident ID card"
    assert by_room["102"][-1] == "Passport · JPN"
    assert "E7654321" not in resp.get_data(as_text=True)
