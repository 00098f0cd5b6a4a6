"""The same rules everywhere (issue 19 item 6): a bad row is refused with the same
words by the landlord's report form, the tenant's QR self-declaration, the
spreadsheet import and the police's entry, in Chinese and in English; a good row is
accepted by each. The rule and its message live in residents/rules.py and
residents/documents.py (the dates' reader in core.validators); no channel words
one itself."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from community.core.timeutil import today
from community.residents.imports.files import HEADER
from community.residents.imports.services import import_file
from community.residents.models import Residence
from tests.conftest import csrf_from, logged_in
from tests.factories.residents import id_number

CHANNELS = ("report", "declare", "import", "police")
LOCALES = ("en", "zh_CN")
DOCUMENT = ("document_type", "nationality", "latin_name", "gender", "birth_date")


def _good(**changes) -> dict[str, str]:
    row = {
        "name": "王小明",
        "id_number": id_number(),
        "phone": "13812345678",
        "move_in": (today() - timedelta(days=1)).isoformat(),
        "document_type": "",
        "nationality": "",
        "latin_name": "",
        "gender": "",
        "birth_date": "",
    }
    row.update(changes)
    return row


def _wrong_check_digit() -> str:
    number = id_number()
    return number[:17] + ("0" if number[17] != "0" else "1")


_PASSPORT = {
    "document_type": "passport",
    "id_number": "E12345678",
    "latin_name": "KIM MINSU",
    "gender": "M",
    "birth_date": "1988-08-08",
}
_PERMIT = {"document_type": "hk_macao_permit", "id_number": "H12345678", "gender": "F"}

# (case, field at fault, row changes, the English words, the Chinese words)
CASES = [
    (
        "check digit",
        "id_number",
        lambda: {"id_number": _wrong_check_digit()},
        "This ID number does not pass the check",
        "身份证号码未通过校验",
    ),
    (
        "passport without country",
        "nationality",
        lambda: dict(_PASSPORT),
        "Choose the country that issued the passport.",
        "请选择护照签发国家",
    ),
    (
        "passport without country or name",
        "nationality",
        lambda: {**_PASSPORT, "name": ""},
        "Choose the country that issued the passport.",
        "请选择护照签发国家",
    ),
    (
        "arrival in the future",
        "move_in",
        lambda: {"move_in": (today() + timedelta(days=1)).isoformat()},
        "The move-in date cannot be in the future.",
        "入住日期不能晚于今天",
    ),
    (
        "permit number with the wrong prefix",
        "id_number",
        lambda: {"document_type": "residence_permit"},
        "starts with 810000, 820000 or 830000",
        "810000、820000或830000",
    ),
    ("missing name", "name", lambda: {"name": ""}, "Enter the resident's name.", "请填写居民姓名"),
    (
        "name too long",
        "name",
        lambda: {"name": "王" * 61},
        "At most 60 characters.",
        "最多 60 个字",
    ),
    (
        "bad phone",
        "phone",
        lambda: {"phone": "12345"},
        "A mobile number has 11 digits and starts with 13 to 19.",
        "手机号为 11 位数字",
    ),
    (
        "missing number",
        "id_number",
        lambda: {"id_number": ""},
        "Enter the document number.",
        "请填写证件号码",
    ),
    (
        "missing arrival",
        "move_in",
        lambda: {"move_in": ""},
        "Enter the move-in date (YYYY-MM-DD).",
        "请填写入住日期",
    ),
    (
        "unreadable date",
        "move_in",
        lambda: {"move_in": "下周一"},
        "This date cannot be read.",
        "2026年12月5日",
    ),
    (
        "a day past the calendar",
        "move_in",
        lambda: {"move_in": "2300-01-01"},
        "Give a date between 1900-01-01 and 2199-12-31.",
        "请填写 1900-01-01 至 2199-12-31 之间的日期",
    ),
    (
        "a permit's birth date before 1900",
        "birth_date",
        lambda: {**_PERMIT, "birth_date": "1850-01-01"},
        "Give a date between 1900-01-01 and 2199-12-31.",
        "请填写 1900-01-01 至 2199-12-31 之间的日期",
    ),
    (
        "a permit without birth date",
        "birth_date",
        lambda: dict(_PERMIT),
        "Enter the birth date as the document shows it.",
        "请按证件填写出生日期",
    ),
    (
        "unknown document",
        "document_type",
        lambda: {"document_type": "driving_licence"},
        "Choose the kind of identity document.",
        "请选择证件类型",
    ),
    (
        "a passport name in other letters",
        "latin_name",
        lambda: {**_PASSPORT, "nationality": "KOR", "latin_name": "金民秀"},
        "Latin letters, spaces, dots, commas, apostrophes and dashes.",
        "仅限拉丁字母",
    ),
    (
        "a number Excel wrote as 3.30302E+17",
        "id_number",
        lambda: {"id_number": "3.30302E+17"},
        "Excel has turned this number into a number like 3.30302E+17",
        "Excel 已把这个号码变成 3.30302E+17",
    ),
]


def _errors_on_page(body: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for field, text in re.findall(r'<small class="error" id="([a-z_]+)-error">(.*?)</small>', body):
        found.setdefault(field, []).append(html.unescape(text))
    return found


def _form_post(client, world, user, row, locale, session) -> tuple[int, dict[str, list[str]]]:
    user.locale = locale
    session.commit()
    page = client.get(f"/residents/new?room_id={world.room.id}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "room_id": world.room.id, **row}
    resp = client.post("/residents/new", data=data)
    return resp.status_code, _errors_on_page(resp.get_data(as_text=True))


def _declare(app, world, row, locale) -> tuple[int, dict[str, list[str]]]:
    client = app.test_client()
    with client.session_transaction() as state:
        state["locale"] = locale
    url = f"/declare/{world.site.qr_token}"
    page = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "room_id": world.room.id, "consent": "y", **row}
    resp = client.post(url, data=data)
    return resp.status_code, _errors_on_page(resp.get_data(as_text=True))


def _import(session, world, row, locale) -> tuple[int, dict[str, list[str]]]:
    header = [*HEADER, *DOCUMENT]
    values = {"site_id": world.site.id, "building": "A座", "room": "101", **row}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerow([values.get(column, "") for column in header])
    with force_locale(locale):
        result = import_file(session, world.landlord, out.getvalue().encode("utf-8"))
    found: dict[str, list[str]] = {}
    for problem in result.problems:
        found.setdefault(problem.column, []).append(problem.reason)
    return (200 if result.imported == 1 else 422), found


def _channel(channel, *, app, session, world, row, locale):
    if channel in ("report", "police"):
        user = world.landlord if channel == "report" else world.police
        client = logged_in(app, user.username)
        return _form_post(client, world, user, row, locale, session)
    if channel == "declare":
        return _declare(app, world, row, locale)
    return _import(session, world, row, locale)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "field, changes, english, chinese",
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_a_bad_row_gets_the_same_words_in_every_channel(
    app, session, world, locale, field, changes, english, chinese
):
    row = _good(**changes())
    said = {}
    for channel in CHANNELS:
        status, errors = _channel(
            channel,
            app=app,
            session=session,
            world=world,
            row=row,
            locale=locale,
        )
        assert status == 422, (channel, status, errors)
        assert set(errors) == {field}, (channel, errors)  # the fault alone is named
        said[channel] = errors[field]
    assert len({tuple(words) for words in said.values()}) == 1, said
    words = " ".join(said["import"])
    assert (english if locale == "en" else chinese) in words
    if locale == "zh_CN":
        assert english not in words  # translated, not the English text
    assert session.scalar(select(func.count()).select_from(Residence)) == 0


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="id card"),
        pytest.param({**_PASSPORT, "nationality": "KOR", "name": ""}, id="passport"),
        pytest.param({**_PERMIT, "birth_date": "1991-02-03"}, id="permit"),
        pytest.param({"move_in": (today() - timedelta(days=1)).strftime("%Y/%m/%d")}, id="slashes"),
    ],
)
def test_a_good_row_is_accepted_in_every_channel(app, session, world, channel, changes):
    row = _good(**changes)
    status, errors = _channel(
        channel,
        app=app,
        session=session,
        world=world,
        row=row,
        locale="en",
    )
    assert errors == {} and status in (200, 303), (status, errors)
    stay = session.scalars(select(Residence)).one()
    expected = {"report": "landlord", "declare": "self_declared", "import": "landlord"}
    assert stay.channel == expected.get(channel, "police")
    assert stay.status == ("verified" if channel == "police" else "pending")
