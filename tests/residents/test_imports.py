"""The spreadsheet import service: CSV and xlsx files built in memory, real check
digits from the factories."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from community.core.timeutil import today as local_today
from community.residents.imports.files import HEADER, ImportRefused
from community.residents.imports.services import import_file
from community.residents.models import Person, Residence
from tests.factories.accounts import make_org, make_role_user
from tests.factories.residents import id_number

YESTERDAY = (local_today() - timedelta(days=1)).isoformat()


@pytest.fixture(autouse=True)
def _english(app_ctx):
    """Messages in English (the msgids) for the service calls made outside a request."""
    with force_locale("en"):
        yield


def csv_bytes(rows, header=HEADER, bom=False) -> bytes:
    lines = [",".join(header)] + [",".join(str(c) for c in r) for r in rows]
    text = "\n".join(lines) + "\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def xlsx_bytes(rows, header=HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(header))
    for r in rows:
        sheet.append(list(r))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row(w, number=None, room="101", move_in=YESTERDAY, name="张三", site=None):
    return [
        site or w.site.id,
        "A座",
        room,
        name,
        number or id_number(),
        "13812345678",
        move_in,
        "浙江温州",
        "",
    ]


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_csv_import_reports_pending_landlord_residences(session, world):
    data = csv_bytes([row(world), row(world, room="102")], bom=True)
    result = import_file(session, world.landlord, data)
    assert (result.imported, result.already, result.refused) == (2, 0, 0)
    stays = session.scalars(select(Residence)).all()
    assert {r.channel for r in stays} == {"landlord"}
    assert {r.status for r in stays} == {"pending"}


def test_same_file_twice_adds_nothing(session, world):
    same = row(world)
    data = csv_bytes([same, same])
    first = import_file(session, world.landlord, data)
    assert (first.imported, first.already) == (1, 1)
    again = import_file(session, world.landlord, data)
    assert (again.imported, again.already, again.refused) == (0, 2, 0)
    assert count(session, Residence) == 1
    assert count(session, Person) == 1


def test_xlsx_import_reads_dates_and_numbers(session, world):
    data = xlsx_bytes(
        [
            [
                world.site.id,
                "A座",
                101,
                "李四",
                id_number(),
                13812345678,
                local_today() - timedelta(days=2),
                None,
                "创客电子",
            ]
        ]
    )
    result = import_file(session, world.landlord, data)
    assert (result.imported, result.refused) == (1, 0), result.errors
    assert session.scalar(select(Residence.employer)) == "创客电子"


def test_invalid_rows_are_reported_with_line_and_reason(session, world):
    good = id_number()
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    data = csv_bytes(
        [
            row(world),
            row(world, number=bad_check),
            row(world, room="999"),
            row(world, move_in=(local_today() + timedelta(days=3)).isoformat()),
            row(world, site=world.other_site.id),
            row(world, name=""),
        ]
    )
    result = import_file(session, world.landlord, data)
    assert result.imported == 1
    lines = dict(result.errors)
    assert sorted(lines) == [3, 4, 5, 6, 7]
    assert "does not pass the check" in lines[3]
    assert "No room 999" in lines[4]
    assert "future" in lines[5]
    assert "No site" in lines[6]
    assert "name" in lines[7]


def test_enterprise_imports_its_dormitory_with_the_enterprise_channel(session, world):
    enterprise = make_org(session, kind="enterprise", area=world.community)
    world.site.enterprise_id = enterprise.id
    hr = make_role_user(session, "enterprise", org=enterprise)
    session.flush()
    result = import_file(session, hr, csv_bytes([row(world)]))
    assert result.imported == 1, result.errors
    assert session.scalar(select(Residence.channel)) == "enterprise"


def test_enterprise_may_not_import_elsewhere(session, world):
    enterprise = make_org(session, kind="enterprise", area=world.community)
    hr = make_role_user(session, "enterprise", org=enterprise)
    result = import_file(session, hr, csv_bytes([row(world)]))
    assert result.imported == 0 and result.refused == 1


def test_police_import_is_verified_at_once(session, world):
    same = row(world)
    result = import_file(session, world.police, csv_bytes([same, same]))
    assert (result.imported, result.already) == (1, 1), result.errors
    assert session.scalar(select(Residence.status)) == "verified"


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary\xff\xfe", "not a spreadsheet"),
        (b"PK\x03\x04broken zip", "not a spreadsheet"),
        ("name,phone\n张三,1\n".encode(), "missing: site_id"),
        (",".join([*HEADER, "id_number"]).encode() + b"\n", "both give id_number"),
    ],
)
def test_bad_files_are_refused_whole(session, world, data, words):
    with pytest.raises(ImportRefused) as caught:
        import_file(session, world.landlord, data)
    assert words in caught.value.message
    assert count(session, Residence) == 0


def test_file_over_the_limit_is_refused(session, world, app):
    app.config["IMPORT_MAX_BYTES"] = 100
    try:
        with pytest.raises(ImportRefused, match="larger than"):
            import_file(session, world.landlord, csv_bytes([row(world), row(world)]))
    finally:
        app.config["IMPORT_MAX_BYTES"] = 20 * 1024 * 1024


# --- flask import-residents ---------------------------------------------------------------


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["import-residents", *args])


def test_cli_imports_as_the_named_user_and_exits_0(app, session, world, tmp_path):
    file = tmp_path / "residents.csv"
    file.write_bytes(csv_bytes([row(world), row(world, room="102")]))
    result = _cli(app, str(file), "--as", world.landlord.username)
    assert result.exit_code == 0, result.output
    assert "imported: 2" in result.output
    again = _cli(app, str(file), "--as", world.landlord.username)
    assert again.exit_code == 0 and "already reported: 2" in again.output


def test_cli_prints_refused_lines_and_exits_1(app, session, world, tmp_path):
    file = tmp_path / "residents.xlsx"
    file.write_bytes(xlsx_bytes([row(world), row(world, room="999")]))
    result = _cli(app, str(file), "--as", world.landlord.username)
    assert result.exit_code == 1
    assert "imported: 1" in result.output and "refused: 1" in result.output
    assert "line 3: " in result.output


def test_cli_refuses_a_wrong_header_and_imports_nothing(app, session, world, tmp_path):
    file = tmp_path / "residents.csv"
    file.write_bytes(b"name,phone\nx,1\n")
    result = _cli(app, str(file), "--as", world.landlord.username)
    assert result.exit_code == 1
    assert "site_id,building,room,name,id_number,phone,move_in,hometown,employer" in result.output
    assert count(session, Residence) == 0


def test_cli_without_as_acts_as_an_administrator(app, session, world, tmp_path):
    make_role_user(session, "admin")
    session.commit()
    file = tmp_path / "residents.csv"
    file.write_bytes(csv_bytes([row(world)]))
    result = _cli(app, str(file))
    assert result.exit_code == 0, result.output
    assert session.scalar(select(Residence.channel)) == "property_manager"
