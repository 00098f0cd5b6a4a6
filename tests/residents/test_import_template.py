"""The import's xlsx template (issue 19 item 2): downloaded from the import page for a
site the user imports into, it holds the header the import reads, the site's
buildings and rooms, the documents and genders as drop-down lists, date and text
formats; filled with openpyxl as a user would (a row of each document type, date
cells), it imports through the worker without a single refused row."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from urllib.parse import quote

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from community.core.timeutil import today as local_today
from community.residents.imports import columns, template
from community.residents.imports.columns import COLUMNS, FIELDS
from community.residents.imports.models import ImportJob
from community.residents.models import Residence
from tests.conftest import PASSWORD
from tests.factories.accounts import make_org, make_role_user
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import id_number
from tests.residents.test_documents import PERMIT, PR_2017, PR_2023
from tests.residents.test_import_views import _job_id, _upload
from tests.worker import run_worker

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _import_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path))


def _download(client, site_id) -> openpyxl.Workbook:
    resp = client.get(f"/residents/import/template.xlsx?site_id={site_id}")
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == XLSX
    return openpyxl.load_workbook(io.BytesIO(resp.data))


def _validations(sheet) -> dict[str, object]:
    """The data validation of each column (by field), read back from the file."""
    found = {}
    for validation in sheet.data_validations.dataValidation:
        for cell_range in validation.sqref.ranges:
            field = FIELDS[cell_range.min_col - 1]
            assert cell_range.min_row == 2 and cell_range.max_row == 1_048_576
            found[field] = validation
    return found


def _list_values(book, validation) -> list[str]:
    """The values of a list validation: inline, or from the hidden sheet's range."""
    formula = validation.formula1
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    sheet_name, cells = re.match(r"'(.+)'!(\$[A-Z]+\$\d+:\$[A-Z]+\$\d+)", formula).groups()
    return [c.value for row in book[sheet_name][cells.replace("$", "")] for c in row]


def test_the_template_holds_what_the_import_reads(session, client, login, world):
    world.landlord.locale = "zh_CN"
    session.commit()
    login(world.landlord)
    resp = client.get(f"/residents/import/template.xlsx?site_id={world.site.id}")
    disposition = resp.headers["Content-Disposition"]
    ascii_name = f'filename="residents-template-{world.site.id}.xlsx";'
    assert disposition.startswith(f"attachment; {ascii_name}")
    assert f"filename*=UTF-8''{quote('住户登记模板-青年公寓.xlsx')}" in disposition
    book = openpyxl.load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames[:2] == ["住户登记", "填写说明"]
    sheet = book["住户登记"]
    header = [c.value for c in sheet[1]]
    assert header == [c.header for c in COLUMNS]
    assert [columns.field_of(h) for h in header] == list(FIELDS)
    # Text and date formats, on the columns and on the first rows' cells.
    for field, number_format in [
        ("id_number", "@"),
        ("phone", "@"),
        ("move_in", "yyyy-mm-dd"),
        ("birth_date", "yyyy-mm-dd"),
    ]:
        letter = columns.letter(FIELDS.index(field))
        assert sheet.column_dimensions[letter].number_format == number_format
        assert sheet[f"{letter}2"].number_format == number_format
        assert sheet[f"{letter}1001"].number_format == number_format
    assert sheet["D2"].number_format == "General"  # the name: no format of its own
    found = _validations(sheet)
    assert _list_values(book, found["site_id"]) == [str(world.site.id)]
    assert _list_values(book, found["building"]) == ["A座"]
    assert _list_values(book, found["room"]) == ["A座/101", "A座/102"]
    assert _list_values(book, found["document_type"]) == template.document_names()
    assert len(template.document_names()) == 6 and "护照" in template.document_names()
    assert _list_values(book, found["gender"]) == ["男", "女"]
    countries = _list_values(book, found["nationality"])
    assert len(countries) > 200 and "美国" in countries  # a range: far past 255 characters
    assert found["nationality"].formula1.startswith("'列表'!")
    assert book["列表"].sheet_state == "hidden"
    for field in ("move_in", "birth_date"):
        validation = found[field]
        assert (validation.type, validation.operator) == ("date", "between")
        assert (validation.formula1, validation.formula2) == ("DATE(1900,1,1)", "TODAY()")
    assert found["id_number"].prompt and "3.30302E+17" in found["id_number"].prompt
    # The instructions, in Chinese: each column, the dates, the documents, 24 hours.
    text = "\n".join(str(c.value) for row in book["填写说明"].iter_rows() for c in row if c.value)
    assert "青年公寓" in text and f"场所编号 {world.site.id}" in text
    for column in COLUMNS:
        assert column.header in text
    assert "2026年12月5日" in text and "24小时" in text and "出境入境管理法" in text
    assert "3.30302E+17" in text and "必填" in text


def test_an_english_reader_gets_english_instructions_and_the_same_header(
    session, client, login, world
):
    world.landlord.locale = "en"
    session.commit()
    login(world.landlord)
    book = _download(client, world.site.id)
    assert [c.value for c in book["住户登记"][1]] == [c.header for c in COLUMNS]
    text = " ".join(str(c.value) for row in book["填写说明"].iter_rows() for c in row if c.value)
    assert "within 24 hours of arrival" in text and "Required" in text


def test_a_long_list_of_rooms_goes_through_the_hidden_sheet(session, client, login, world):
    building = make_building(session, site=world.site, name="B,栋")  # a comma: never inline
    for n in range(1, 61):
        make_room(session, building=building, number=f"{n:04d}")
    session.commit()
    login(world.landlord)
    book = _download(client, world.site.id)
    found = _validations(book["住户登记"])
    assert found["room"].formula1.startswith("'列表'!")
    rooms = _list_values(book, found["room"])
    assert len(rooms) == 62 and "B,栋/0001" in rooms and rooms[-1] == "B,栋/0060"
    assert found["building"].formula1.startswith("'列表'!")
    assert _list_values(book, found["building"]) == ["A座", "B,栋"]


def _fill(book, rows) -> bytes:
    """Rows typed into the template's cells as a user would (values by column name,
    dates as date cells), the template's own formats and lists left as they are."""
    sheet = book["住户登记"]
    for offset, values in enumerate(rows):
        for field, value in values.items():
            sheet.cell(row=2 + offset, column=FIELDS.index(field) + 1, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rows_of_every_document(world, yesterday: date) -> list[dict]:
    site = str(world.site.id)
    return [
        {
            "site_id": site,
            "building": "A座",
            "room": "A座/101",
            "name": "张三",
            "id_number": id_number(),
            "phone": "13812345678",
            "move_in": datetime.combine(yesterday, datetime.min.time()),
            "hometown": "浙江温州",
            "document_type": "居民身份证",
        },
        {  # the room number alone, with its building
            "site_id": site,
            "building": "A座",
            "room": "102",
            "name": "陈小明",
            "id_number": PERMIT,
            "move_in": yesterday,
            "document_type": "港澳台居民居住证",
        },
        {
            "site_id": site,
            "room": "A座/101",
            "name": "JOHN SMITH",
            "id_number": PR_2023,
            "move_in": yesterday,
            "document_type": "外国人永久居留身份证",
            "nationality": "美国",
        },
        {
            "site_id": site,
            "room": "A座/102",
            "name": "MARY SMITH",
            "id_number": PR_2017,
            "move_in": yesterday,
            "document_type": "外国人永久居留身份证",
            "gender": "女",
            "birth_date": datetime(1985, 6, 12),
        },
        {
            "site_id": site,
            "room": "A座/101",
            "name": "李四",
            "id_number": "H12345678",
            "move_in": yesterday,
            "document_type": "港澳居民来往内地通行证",
            "gender": "男",
            "birth_date": date(1991, 2, 3),
        },
        {
            "site_id": site,
            "room": "A座/102",
            "name": "王五",
            "id_number": "12345678",
            "move_in": yesterday,
            "document_type": "台湾居民来往大陆通行证",
            "gender": "女",
            "birth_date": date(1992, 3, 4),
        },
        {
            "site_id": site,
            "room": "A座/101",
            "id_number": "E12345678",
            "move_in": yesterday,
            "document_type": "护照",
            "nationality": "韩国",
            "latin_name": "KIM MINSU",
            "gender": "男",
            "birth_date": date(1988, 8, 8),
        },
    ]


def test_a_filled_template_imports_through_the_worker_without_a_refused_row(
    client, login, world, session
):
    login(world.landlord)
    book = _download(client, world.site.id)
    yesterday = local_today() - timedelta(days=1)
    data = _fill(book, _rows_of_every_document(world, yesterday))
    resp = _upload(client, data, name="住户登记模板-青年公寓.xlsx")
    assert resp.status_code == 303
    job_id = _job_id(resp)
    run_worker()
    job = session.get(ImportJob, job_id)
    session.refresh(job)
    assert (job.status, job.total, job.refused, job.imported) == ("done", 7, 0, 7)
    page = client.get(f"/residents/import/{job_id}").get_data(as_text=True)
    assert "Import finished." in page and "refused-rows" not in page
    stays = session.scalars(select(Residence).options(joinedload(Residence.person))).all()
    kinds = sorted(r.person.document_type for r in stays)
    assert kinds == sorted(
        [
            "id_card",
            "residence_permit",
            "permanent_residence",
            "permanent_residence",
            "hk_macao_permit",
            "taiwan_permit",
            "passport",
        ]
    )
    assert {r.move_in for r in stays} == {yesterday}
    assert {r.room_id for r in stays} == {world.room.id, world.room2.id}
    passport = next(r for r in stays if r.person.document_type == "passport")
    assert (passport.person.nationality, passport.latin_name, passport.name) == (
        "KOR",
        "KIM MINSU",
        "KIM MINSU",
    )
    assert {
        r.person.nationality for r in stays if r.person.document_type == "permanent_residence"
    } == {"USA"}
    # The same file again adds nothing.
    again = _job_id(_upload(client, data, name="again.xlsx"))
    run_worker()
    job = session.get(ImportJob, again)
    session.refresh(job)
    assert (job.imported, job.already, job.refused) == (0, 7, 0)


def test_a_room_of_the_list_in_another_building_is_refused(client, login, world, session):
    login(world.landlord)
    book = _download(client, world.site.id)
    row = _rows_of_every_document(world, local_today() - timedelta(days=1))[0]
    data = _fill(book, [{**row, "building": "B座"}])
    job_id = _job_id(_upload(client, data, name="t.xlsx"))
    run_worker()
    job = session.get(ImportJob, job_id)
    session.refresh(job)
    assert (job.imported, job.refused) == (0, 1)
    page = client.get(f"/residents/import/{job_id}").get_data(as_text=True)
    assert "No room A座/101 in building B座 at this site." in page


def test_the_import_page_offers_a_template_per_site_of_the_import_scope(client, login, world):
    login(world.landlord)
    page = client.get("/residents/import").get_data(as_text=True)
    form = re.search(r'<form[^>]*data-testid="import-template".*?</form>', page, re.S).group(0)
    assert 'method="get" action="/residents/import/template.xlsx"' in form
    assert 'hx-boost="false"' in form and 'name="site_id"' in form
    assert f'<option value="{world.site.id}">青年公寓</option>' in form
    assert "远方小区" not in form


@pytest.mark.parametrize(
    "who, status",
    [
        ("landlord", 200),
        ("manager", 200),
        ("police", 200),
        ("other_police", 404),
        ("volunteer", 403),
    ],
)
def test_who_downloads_the_template(client, login, world, who, status):
    login(getattr(world, who))
    resp = client.get(f"/residents/import/template.xlsx?site_id={world.site.id}")
    assert resp.status_code == status


@pytest.mark.parametrize(
    "query", ["", "?site_id=", "?site_id=abc", "?site_id=99999999999", "?site_id=0"]
)
def test_a_missing_or_unknown_site_is_404(client, login, world, query):
    login(world.landlord)
    assert client.get(f"/residents/import/template.xlsx{query}").status_code == 404


def test_another_district_s_site_is_404_and_not_offered(client, login, world):
    login(world.police)
    assert (
        client.get(f"/residents/import/template.xlsx?site_id={world.other_site.id}").status_code
        == 404
    )
    page = client.get("/residents/import").get_data(as_text=True)
    assert "青年公寓" in page and "远方小区" not in page


def test_an_enterprise_gets_its_dormitory_only(session, client, login, world):
    enterprise = make_org(session, kind="enterprise", area=world.community)
    clerk = make_role_user(session, "enterprise", password=PASSWORD, org=enterprise)
    dormitory = make_site(session, area=world.community, name="员工宿舍", enterprise=enterprise)
    make_room(session, building=make_building(session, site=dormitory, name="宿舍楼"), number="1")
    session.commit()
    login(clerk)
    page = client.get("/residents/import").get_data(as_text=True)
    assert "员工宿舍" in page and "青年公寓" not in page
    assert client.get(f"/residents/import/template.xlsx?site_id={dormitory.id}").status_code == 200
    assert client.get(f"/residents/import/template.xlsx?site_id={world.site.id}").status_code == 404


def test_the_listed_sites_are_the_ones_the_rule_allows(session, world):
    """importable_sites (the page's list) twins the residence.import rule."""
    from community.accounts.permissions import can
    from community.places.models import Site
    from community.residents.imports.queries import template_sites

    sites = session.scalars(select(Site)).all()
    for user in (world.landlord, world.manager, world.police, world.other_police, world.volunteer):
        listed = {site_id for site_id, _name in template_sites(session, user)}
        assert listed == {s.id for s in sites if can(user, "residence.import", s)}


def test_the_download_writes_nothing(client, login, world, count_queries):
    login(world.landlord)
    with count_queries() as queries:
        resp = client.get(f"/residents/import/template.xlsx?site_id={world.site.id}")
    assert resp.status_code == 200 and queries.count > 0
    writes = ("INSERT", "UPDATE", "DELETE")
    assert not [q for q in queries.statements if q.lstrip().upper().startswith(writes)]


def test_every_column_has_its_line_in_the_instructions():
    assert set(template.HELP) == set(FIELDS)
