"""The files people have (issue 19 item 1): a CSV saved by Excel on a Chinese Windows
(GB18030, CRLF, Chinese headers), a UTF-8 one with a byte order mark, columns in any
order with extra ones listed and ignored, an xlsx whose residents sheet is not the
first, with date cells and Excel serial numbers, full-width characters, blank rows
and the identity documents' columns. Files are imported through the worker's job (as
the web page does) or import_file (as the command does)."""

from __future__ import annotations

import io
import random
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from community.core.timeutil import today as local_today
from community.residents.imports import columns, files, services
from community.residents.imports.files import HEADER, ImportRefused, read_rows
from community.residents.imports.services import import_file
from community.residents.models import Person, Residence
from tests.factories.residents import id_number
from tests.worker import run_worker

DAY = local_today() - timedelta(days=2)
EXCEL = f"{DAY.year}/{DAY.month}/{DAY.day}"  # how Excel's CSV writes a date cell
SERIAL = (DAY - date(1899, 12, 30)).days
CHINESE = [
    "场所编号",
    "楼栋",
    "房号",
    "姓名",
    "身份证号码",
    "手机号码",
    "入住日期",
    "籍贯",
    "工作单位",
]


@pytest.fixture(autouse=True)
def _setup(app, app_ctx, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_DIR", str(tmp_path / "imports"))
    with force_locale("en"):
        yield


def _csv(rows, encoding="utf-8", newline="\r\n") -> bytes:
    text = newline.join(",".join(str(c) for c in r) for r in rows) + newline
    return text.encode(encoding)


def _xlsx(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for r in rows:
            sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _job(session, user, data: bytes, name="住户.csv"):
    """The web import of `data`, run by the worker until done."""
    job = services.start_import(session, user, name, data)
    job.locale = "en"
    session.commit()
    run_worker()
    session.refresh(job)
    return job


def _count(session, model=Residence) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _problems(job):
    return [(p.line, p.column, p.reason) for p in files.problems(job)]


def _ends_with_x() -> str:
    for serial in range(1000):
        number = id_number(born=date(1988, 8, 8), serial=serial)
        if number.endswith("X"):
            return number
    raise AssertionError("no number ending in X")


def test_the_contract_header_is_the_first_fields_of_the_table():
    assert HEADER == (
        "site_id",
        "building",
        "room",
        "name",
        "id_number",
        "phone",
        "move_in",
        "hometown",
        "employer",
    )
    assert columns.FIELDS[: len(HEADER)] == HEADER
    assert [columns.field_of(h) for h in CHINESE] == list(HEADER)


def test_a_gb18030_csv_as_excel_saves_it_is_imported(session, world):
    rows = [
        CHINESE,
        [world.site.id, "A座", "101", "张三", id_number(), "13812345678", EXCEL, "浙江温州", ""],
        [world.site.id, "A座", "102", "李四", id_number(), "", EXCEL, "", "创客电子"],
    ]
    data = _csv(rows, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # truly not UTF-8
    job = _job(session, world.landlord, data)
    assert (job.status, job.total, job.imported, job.refused) == ("done", 2, 2, 0), job.message
    assert set(session.scalars(select(Residence.move_in))) == {DAY}
    assert set(session.scalars(select(Residence.employer))) == {None, "创客电子"}
    # The same file again adds nothing.
    again = _job(session, world.landlord, data)
    assert (again.status, again.imported, again.already) == ("done", 0, 2)
    assert _count(session) == 2 and _count(session, Person) == 2


def test_a_utf8_csv_with_bom_in_another_order_lists_the_extra_column(session, world):
    header = ["序号", "姓名", "房号", "楼号", "证件号码", "入住日期", "场所编号", "备注"]
    rows = [
        header,
        [1, "张三", "101", "A座", id_number(), DAY.isoformat(), world.site.id, "夜班"],
        [2, "王五", "102", "A座", id_number(), EXCEL, world.site.id, ""],
    ]
    data = b"\xef\xbb\xbf" + _csv(rows)
    job = _job(session, world.landlord, data)
    assert (job.status, job.imported, job.refused) == ("done", 2, 0), job.message
    assert "A 序号" in job.message and "H 备注" in job.message
    result = import_file(session, world.landlord, data)
    assert result.ignored == ("A 序号", "H 备注") and result.already == 2


def test_the_english_contract_header_in_another_order_with_a_space_is_read(session, world):
    header = ["Name", "ID Number", "site_id", "building", "room", "move_in", "phone"]
    data = _csv([header, ["张三", id_number(), world.site.id, "A座", "101", DAY, ""]], newline="\n")
    result = import_file(session, world.landlord, data)
    assert (result.imported, result.refused, result.ignored) == (1, 0, ()), result.errors


def test_a_missing_required_column_is_named(session, world):
    header = ["场所编号", "楼栋", "房号", "姓名", "身份证号码", "手机号码"]
    data = _csv([header, [world.site.id, "A座", "101", "张三", id_number(), ""]])
    with pytest.raises(ImportRefused) as caught:
        import_file(session, world.landlord, data)
    assert "missing: move_in (入住日期)." in caught.value.message
    job = _job(session, world.landlord, data)
    assert job.status == "failed" and "move_in (入住日期)" in job.message
    assert _count(session) == 0


def test_two_columns_giving_one_field_are_refused_naming_both(session, world):
    header = ["场所编号", "楼栋", "房号", "身份证号码", "姓名", "证件号码", "入住日期"]
    data = _csv([header, [world.site.id, "A座", "101", id_number(), "张三", id_number(), DAY]])
    with pytest.raises(ImportRefused) as caught:
        import_file(session, world.landlord, data)
    message = caught.value.message
    assert message.startswith("Line 1: columns D (身份证号码) and F (证件号码)")
    assert "id_number (证件号码)" in message
    assert _count(session) == 0


UTF16 = ("\ufeff" + ",".join(HEADER) + "\r\n1,A座,101,张三,x,,,,\r\n").encode("utf-16-le")
RANDOM = random.Random(19).randbytes(4000)


@pytest.mark.parametrize("data", [UTF16, RANDOM, b"\xef\xbb\xbf" + "姓名".encode("gb18030")])
def test_a_file_in_another_encoding_is_refused_naming_those_read(session, world, tmp_path, data):
    with pytest.raises(ImportRefused) as caught:
        import_file(session, world.landlord, data)
    assert "UTF-8 or GB18030 (GBK)" in caught.value.message
    path = tmp_path / "upload"
    path.write_bytes(data)
    with pytest.raises(ImportRefused) as streamed:
        list(read_rows(path))  # the worker's way: read from the stored file in pieces
    assert streamed.value.message == caught.value.message
    job = _job(session, world.landlord, data)
    assert job.status == "failed" and "GB18030" in job.message
    assert _count(session) == 0


def test_an_xlsx_residents_sheet_with_date_cells_and_serial_numbers(session, world):
    header = ["楼栋", "房号", "姓名", "身份证号码", "入住日期", "场所编号", "手机号码"]
    rows = [
        header,
        [
            "A座",
            101,
            "张三",
            id_number(),
            datetime(DAY.year, DAY.month, DAY.day),
            world.site.id,
            13812345678,
        ],
        ["A座", 102, "李四", id_number(), SERIAL, world.site.id, None],
        ["A座", 101, "王五", id_number(), SERIAL + 0.5, world.site.id, None],
        ["A座", 102, "赵六", id_number(), str(SERIAL), world.site.id, None],
        ["A座", 101, "钱七", id_number(), 2026, world.site.id, None],  # a year, not a day
    ]
    data = _xlsx({"说明": [["请填写第二张表"], ["x", "y"]], "住户登记": rows})
    job = _job(session, world.landlord, data, name="住户.xlsx")
    assert (job.status, job.total, job.imported, job.refused) == ("done", 5, 4, 1), job.message
    assert set(session.scalars(select(Residence.move_in))) == {DAY}
    [(line, column, reason)] = _problems(job)
    assert (line, column) == (6, "move_in") and "cannot be read" in reason


def test_a_sheet_named_residents_is_read_whatever_its_case(session, world):
    rows = [list(HEADER), [world.site.id, "A座", "101", "张三", id_number(), "", DAY, "", ""]]
    data = _xlsx({"Notes": [["nothing"]], "Residents": rows})
    result = import_file(session, world.landlord, data)
    assert (result.imported, result.refused) == (1, 0), result.errors


def test_full_width_characters_spaces_and_a_lower_case_x_are_normalised(session, world):
    number = _ends_with_x()
    wide = number[:17].translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"}) + "x"
    rows = [
        CHINESE,
        [
            f" {world.site.id} ",
            "Ａ座",
            "１０１",
            " 张三 ",
            wide,
            "１３８ １２３４ ５６７８",
            "２０２６－０１－０２",
        ],
    ]
    rows[1][6] = DAY.isoformat().translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789-"})
    rows[1] += ["\u3000浙江\u3000温州 ", "创客（温州）电子"]
    result = import_file(session, world.landlord, _csv(rows, encoding="gb18030"))
    assert (result.imported, result.refused) == (1, 0), result.errors
    person = session.scalar(select(Person))
    stay = session.scalar(select(Residence))
    assert person.id_number == number and number.endswith("X")
    assert (stay.name, stay.phone, stay.move_in) == ("张三", "13812345678", DAY)
    # Names and places keep their full-width punctuation; only spaces are tidied.
    assert (stay.hometown, stay.employer) == ("浙江 温州", "创客（温州）电子")


def test_blank_rows_are_skipped_and_lines_keep_their_numbers(session, world):
    header = ["序号", *CHINESE]
    good = [world.site.id, "A座", "101", "张三", id_number(), "", EXCEL, "", ""]
    rows = [
        header,
        [1, *good],
        ["", "", "", "", "", "", "", "", "", ""],
        [3, "", "", "", "\u3000", " ", "", "", "", ""],  # numbered ahead, nothing written
        [4, *good[:3], "李四", "3303021990", "", "昨天", "", ""],
    ]
    job = _job(session, world.landlord, _csv(rows, encoding="gb18030"))
    assert (job.status, job.total, job.imported, job.refused) == ("done", 2, 1, 1), job.message
    problems = _problems(job)
    assert [(line, column) for line, column, _r in problems] == [(5, "id_number"), (5, "move_in")]


def test_a_file_mixing_documents_reads_each_with_its_columns(session, world):
    header = [
        *CHINESE,
        "证件类型",
        "国籍",
        "外文姓名",
        "性别",
        "出生日期",
    ]
    base = [world.site.id, "A座"]
    rows = [
        header,
        [*base, "101", "张三", id_number(), "", EXCEL, "", "", "", "", "", "", ""],
        [
            *base,
            "101",
            "",
            "E12345678",
            "",
            EXCEL,
            "",
            "",
            "护照",
            "美国",
            "JOHN SMITH",
            "男",
            "1990-01-02",
        ],
        [
            *base,
            "102",
            "佐藤花子",
            "TK1234567",
            "",
            EXCEL,
            "",
            "",
            "Passport",
            "JPN",
            "SATO HANAKO",
            "F",
            32874,
        ],
        [
            *base,
            "102",
            "某人",
            "X1234567",
            "",
            EXCEL,
            "",
            "",
            "护照",
            "火星",
            "SOME ONE",
            "女",
            "1990-01-02",
        ],
        [*base, "102", "某人", "X7654321", "", EXCEL, "", "", "驾驶证", "", "", "", ""],
    ]
    result = import_file(session, world.landlord, _csv(rows, encoding="gb18030"))
    assert (result.imported, result.refused) == (3, 2), result.errors
    people = {p.id_number: p for p in session.scalars(select(Person))}
    john, hanako = people["E12345678"], people["TK1234567"]
    assert (john.document_type, john.nationality, john.gender, john.birth_date) == (
        "passport",
        "USA",
        "M",
        date(1990, 1, 2),
    )
    assert (hanako.nationality, hanako.gender, hanako.birth_date) == ("JPN", "F", date(1990, 1, 1))
    names = dict(session.execute(select(Residence.person_id, Residence.name)).all())
    assert names[john.id] == "JOHN SMITH"  # no Chinese name: the passport's
    reasons = {(p.line, p.column) for p in result.problems}
    assert reasons == {(5, "nationality"), (6, "document_type")}


def test_the_same_xlsx_twice_imports_nothing_new(session, world):
    rows = [CHINESE] + [
        [world.site.id, "A座", room, "张三", id_number(), "", SERIAL, "", ""]
        for room in ("101", "102")
    ]
    data = _xlsx({"住户登记": rows})
    first = _job(session, world.landlord, data, name="a.xlsx")
    again = _job(session, world.landlord, data, name="a.xlsx")
    assert (first.imported, again.imported, again.already, again.refused) == (2, 0, 2, 0)
    assert _count(session) == 2


def test_serial_numbers_outside_the_sane_range_are_not_days():
    assert columns.read_day(str(SERIAL)) == (DAY, None)
    assert columns.read_day("2026")[0] is None  # a year written alone
    assert columns.read_day("999999")[0] is None  # past 2199
    assert columns.read_day("20261205") == (date(2026, 12, 5), None)  # written form first


def test_the_upload_page_names_both_headers_and_the_encodings(client, login, world):
    login(world.landlord)
    page = client.get("/residents/import").get_data(as_text=True)
    assert ",".join(HEADER) in page
    assert "场所编号,楼栋,房号,姓名,证件号码,手机号码,入住日期,籍贯,工作单位" in page
    assert "证件类型、国籍、外文姓名、性别、出生日期" in page
    assert "GB18030" in page and "住户登记" in page


def test_a_refused_latin_name_is_masked_like_a_name(session, world):
    header = [*CHINESE, "证件类型", "国籍", "外文姓名", "性别", "出生日期"]
    cells = [world.site.id, "A座", "101", "李雷", "E1234567", "", EXCEL, "", ""]
    rows = [header, [*cells, "护照", "GBR", "李雷雷", "男", "1990-01-02"]]
    result = import_file(session, world.landlord, _csv(rows, encoding="gb18030"))
    [problem] = result.problems
    assert (problem.line, problem.column, problem.value) == (2, "latin_name", "李**")


def test_a_title_row_above_the_header_is_passed_over(session, world):
    rows = [
        ["2026年12月住户登记表"],
        [],
        CHINESE,
        [world.site.id, "A座", "101", "张三", id_number(), "", SERIAL, "", ""],
    ]
    result = import_file(session, world.landlord, _xlsx({"住户登记": rows}))
    assert (result.imported, result.refused) == (1, 0), result.errors
    wrong = _csv([["住户登记表"], CHINESE[:6], [world.site.id, "A座", "101", "张三", "x", ""]])
    with pytest.raises(ImportRefused) as caught:
        import_file(session, world.landlord, wrong)
    assert caught.value.message.startswith("Line 2 must name the columns")
    with pytest.raises(ImportRefused) as caught:
        import_file(session, world.landlord, _csv([["住户登记表"], ["x", "y"], ["z"], ["w"]]))
    assert caught.value.message.startswith("Line 1 must name the columns")
