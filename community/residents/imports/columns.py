"""The columns of a residents spreadsheet, in one table: each field the import reads,
in the order the rows are kept (the contract header files.HEADER first, then the
identity document's optional columns), the Chinese header a template writes, what
the pages call it, and every header name accepted for it (Chinese and English,
compared without case, spaces, underscores or dashes, full-width letters read as
ASCII). The import maps a file's first row through this table (layout); a template
download writes `header` in FIELDS order. Adding a field here also needs its
reading in rows.Importer._validate."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from community.core.validators import LATEST_DAY, day_range_message, in_day_range, read_date
from community.residents.documents import (
    DOCUMENT_LABELS,
    DOCUMENT_TYPES,
    ID_CARD,
    countries,
    is_country,
)


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # the Chinese header text a template writes
    label: object  # what the pages call it (lazy: the reader's language)
    aliases: tuple[str, ...]  # every other header name accepted for it
    required: bool = False
    # "code": read as NFKC (full-width letters, digits and signs as ASCII); "text": names
    # and places keep their punctuation, only full-width letters and digits folded;
    # "date": written forms, date cells and Excel serial numbers (read_day).
    kind: str = "code"


COLUMNS = (
    Column("site_id", "场所编号", _l("Site number"), ("场所id", "site", "site number"), True),
    Column("building", "楼栋", _l("Building"), ("楼号", "楼幢", "幢号", "building"), True),
    Column("room", "房号", _l("Room"), ("房间号", "房间", "室号", "room"), True),
    Column("name", "姓名", _l("Full name"), ("full name",), True, "text"),
    Column(
        "id_number",
        "证件号码",
        _l("ID number"),
        ("身份证号码", "身份证号", "公民身份号码", "id number", "document number"),
        True,
    ),
    Column(
        "phone",
        "手机号码",
        _l("Mobile phone"),
        ("手机号", "手机", "联系电话", "电话", "phone", "mobile", "mobile phone"),
    ),
    Column(
        "move_in",
        "入住日期",
        _l("Moved in on"),
        ("入住时间", "moved in on", "move-in date"),
        True,
        "date",
    ),
    Column("hometown", "籍贯", _l("Hometown"), ("户籍地", "户籍地址", "hometown"), kind="text"),
    Column("employer", "工作单位", _l("Employer"), ("服务处所", "单位", "employer"), kind="text"),
    Column(
        "document_type",
        "证件类型",
        _l("Identity document"),
        ("证件种类", "document_type", "document type", "identity document"),
    ),
    Column("nationality", "国籍", _l("Country (passport)"), ("国家", "nationality", "country")),
    Column(
        "latin_name",
        "外文姓名",
        _l("Name in Latin letters (passport)"),
        ("英文姓名", "latin_name", "latin name", "name in latin letters"),
    ),
    Column("gender", "性别", _l("Gender (permits and passports)"), ("gender", "sex")),
    Column(
        "birth_date",
        "出生日期",
        _l("Birth date (permits and passports)"),
        ("出生年月日", "birth_date", "birth date", "date of birth"),
        kind="date",
    ),
)
FIELDS = tuple(c.field for c in COLUMNS)
# The contract header (DESIGN.md): the first fields, by these names, stays valid as is.
HEADER = FIELDS[:9]
BY_FIELD = {c.field: c for c in COLUMNS}
REQUIRED = tuple(c.field for c in COLUMNS if c.required)
DATE_FIELDS = tuple(c.field for c in COLUMNS if c.kind == "date")
LABELS = {c.field: c.label for c in COLUMNS}


def header_key(text: str) -> str:
    """A header cell as it is compared: NFKC, no BOM, lower case, without spaces,
    underscores, dashes or a required-field star."""
    text = unicodedata.normalize("NFKC", text or "").replace("\ufeff", "")
    return re.sub(r"[\s_\-*]+", "", text).casefold()


_NAMES = {header_key(name): c.field for c in COLUMNS for name in (c.header, c.field, *c.aliases)}


def field_of(header: str) -> str | None:
    """The field a header cell names, or None."""
    key = header_key(header)
    if key in _NAMES:
        return _NAMES[key]
    # The English labels in the reader's language (an exported template, a translation).
    for column in COLUMNS:
        if key == header_key(str(column.label)):
            return column.field
    return None


def letter(index: int) -> str:
    """The spreadsheet letter of a column (0 -> A, 26 -> AA)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def shown_name(field: str) -> str:
    """A field as a message names it: its English header and its Chinese one."""
    return f"{field} ({BY_FIELD[field].header})"


class HeaderProblem(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Layout:
    """Where each field is in a file's rows (field -> column index), and the columns
    it does not read ("C 备注"), in the file's order."""

    positions: dict[str, int]
    ignored: tuple[str, ...]

    def cells(self, row: list[str]) -> list[str]:
        """A row's cells in FIELDS order ("" for a column the file does not have)."""
        width = len(row)
        return [row[i] if i is not None and i < width else "" for i in self.indexes]

    @functools.cached_property
    def indexes(self) -> list[int | None]:
        """The column of each field, in FIELDS order (None: the file has none)."""
        return [self.positions.get(f) for f in FIELDS]


def names_a_field(row: list[str]) -> bool:
    """True when a cell of `row` is the header of a field (a header row, not a title)."""
    return any(field_of(str(text or "")) for text in row if str(text or "").strip())


def layout(first: list[str], line: int = 1) -> Layout:
    """The layout of a file whose header row is `first` (at `line`); HeaderProblem
    naming the columns when two name one field, or the required fields missing."""
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, text in enumerate(first):
        text = " ".join(unicodedata.normalize("NFKC", text or "").replace("\ufeff", "").split())
        if not text:
            continue
        field = field_of(text)
        if field is None:
            ignored.append(f"{letter(index)} {text[:30]}")
        elif field in positions:
            earlier = positions[field]
            raise HeaderProblem(
                _(
                    "Line %(line)d: columns %(first)s (%(first_text)s) and %(second)s "
                    "(%(second_text)s) both give %(field)s; keep one of them.",
                    line=line,
                    first=letter(earlier),
                    first_text=" ".join(first[earlier].split())[:30],
                    second=letter(index),
                    second_text=text[:30],
                    field=shown_name(field),
                )
            )
        else:
            positions[field] = index
    missing = [f for f in REQUIRED if f not in positions]
    if missing:
        raise HeaderProblem(
            _(
                "Line %(line)d must name the columns, in any order: %(header)s (or in "
                "Chinese: %(chinese)s; the identity document's columns are optional); "
                "missing: %(missing)s.",
                line=line,
                header=",".join(HEADER),
                chinese=",".join(BY_FIELD[f].header for f in HEADER),
                missing=", ".join(shown_name(f) for f in missing),
            )
        )
    return Layout(positions, tuple(ignored))


_WIDE = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)}
_WIDE.update({c: c - 0xFEE0 for c in range(0xFF21, 0xFF3B)})
_WIDE.update({c: c - 0xFEE0 for c in range(0xFF41, 0xFF5B)})


def clean_cell(field: str, value: str) -> str:
    """A cell as the import reads it: spaces (full-width ones too) trimmed and
    collapsed; full-width letters and digits as ASCII, and for code-like columns
    every full-width sign too (NFKC)."""
    if BY_FIELD[field].kind == "text":
        value = (value or "").translate(_WIDE)
    else:
        value = unicodedata.normalize("NFKC", value or "")
    return " ".join(value.split())


# --- the values of the document's columns -------------------------------------------------

# The documents' Chinese names (DOCUMENT_LABELS in Chinese) and the short ones people write.
DOCUMENT_NAMES = {
    "居民身份证": ID_CARD,
    "身份证": ID_CARD,
    "港澳台居民居住证": "residence_permit",
    "居住证": "residence_permit",
    "外国人永久居留身份证": "permanent_residence",
    "永久居留身份证": "permanent_residence",
    "港澳居民来往内地通行证": "hk_macao_permit",
    "回乡证": "hk_macao_permit",
    "台湾居民来往大陆通行证": "taiwan_permit",
    "台胞证": "taiwan_permit",
    "护照": "passport",
}
GENDERS = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}


def document_type_of(value: str) -> str | None:
    """The document type a cell names (a Chinese or English name, or the key); None
    when empty (the resident ID card); the cell itself when it names none, which
    documents.check refuses naming the column."""
    if not value:
        return None
    key = header_key(value)
    for name, kind in DOCUMENT_NAMES.items():
        if key == header_key(name):
            return kind
    for kind in DOCUMENT_TYPES:
        if key in (header_key(kind), *_label_keys(DOCUMENT_LABELS[kind])):
            return kind
    return value


def _label_keys(label: Any) -> tuple[str, ...]:
    keys = []
    for locale in ("en", "zh_CN"):
        with force_locale(locale):
            keys.append(header_key(str(label)))
    return tuple(keys)


@functools.cache
def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for locale in ("en", "zh_CN"):
        with force_locale(locale):
            names.update({header_key(name): code for code, name in countries().items()})
    return names


def country_of(value: str) -> str | None:
    """The ISO alpha-3 code a cell names (the code, or the country's name in Chinese
    or English); the cell itself when it names none (refused naming the column)."""
    if not value:
        return None
    if is_country(value.upper()):
        return value.upper()
    return _country_names().get(header_key(value), value)


def gender_of(value: str) -> str | None:
    return GENDERS.get(value.strip().casefold(), value or None) if value else None


# Excel's day 0 in its 1900 date system (serial 60 is the 29 February 1900 that never
# was: days from 61 on count from here). Serial numbers below SERIAL_FROM (1927) are not
# read as days: a year written alone (2026) would otherwise be taken for one.
EXCEL_DAY_ZERO = date(1899, 12, 30)
SERIAL_FROM = 10_000
_SERIAL = re.compile(r"^\d{5,6}(\.\d+)?$")


def read_day(text: str) -> tuple[date | None, str | None]:
    """A date column's cell: the forms core.validators.read_date reads (an xlsx date
    cell arrives written 2026-12-05), or an Excel serial number (46361, a number cell
    in the 1900 date system; a time of day after the point ignored) between
    SERIAL_FROM and LATEST_DAY. A day outside EARLIEST_DAY..LATEST_DAY is refused
    with the words of the forms' date fields (core.forms.WrittenDateField)."""
    day, problem = read_date(text)
    if problem and _SERIAL.match(text):
        serial = int(float(text))
        if SERIAL_FROM <= serial <= (LATEST_DAY - EXCEL_DAY_ZERO).days:
            return EXCEL_DAY_ZERO + timedelta(days=serial), None
    if day is not None and not in_day_range(day):
        return None, day_range_message()
    return day, problem
