"""The xlsx template of the residents import, for one site: the sheet 住户登记 with
the header row the import reads (columns.COLUMNS, in FIELDS order, Chinese), the
site's buildings and rooms, the identity documents, genders and countries as
drop-down lists (data validation: a short list inline, a longer one — or one whose
values hold a comma or a quote — from a range of the hidden sheet 列表, since
Excel's inline lists stop at 255 characters), the date columns formatted and
validated as dates, the ID number and phone columns formatted as text (so Excel
keeps an ID's 18 digits instead of writing 3.30302E+17), and the sheet 填写说明 in
the reader's language (Chinese by default). A room is listed as 楼栋/房号, which
the import reads (rows.room_of). Built in memory for each download (a site's
lists are small); writes nothing to the database."""

from __future__ import annotations

import io
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from community.core.validators import EARLIEST_DAY
from community.residents.documents import DOCUMENT_TYPES, countries
from community.residents.imports import columns
from community.residents.imports.columns import BY_FIELD, COLUMNS, FIELDS
from community.residents.rules import deadline_days

SHEET = "住户登记"
INSTRUCTIONS = "填写说明"
LISTS = "列表"
# Rows given the text and date formats cell by cell (the columns carry them too, for
# rows typed further down); the drop-down lists and date checks cover whole columns.
FORMATTED_ROWS = 1000
LAST_ROW = 1_048_576
DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
TEXT_FIELDS = ("id_number", "phone")
INLINE_LIMIT = 255  # Excel's limit on an inline list's formula

# What each column holds, for the instructions sheet. Adding a column to
# columns.COLUMNS also needs its line here (tests/residents/test_import_template.py).
HELP = {
    "site_id": _l("The site's number, from the list (this template's site)."),
    "building": _l("The building, from the list."),
    "room": _l(
        "The room, from the list (written building/room); the room number alone with "
        "the building in its column is read too."
    ),
    "name": _l("The resident's full name; for a passport it may be left empty."),
    "id_number": _l(
        "The document's number, as text (the column is formatted so): an ID card's 18 "
        "characters, the last may be X."
    ),
    "phone": _l("An 11-digit mobile number starting with 13 to 19."),
    "move_in": _l("The day the resident moved in (or arrived), not in the future."),
    "hometown": _l("Hometown, at most 60 characters."),
    "employer": _l("Employer, at most 120 characters."),
    "document_type": _l("The identity document, from the list; empty means the resident ID card."),
    "nationality": _l(
        "For a passport (required) or a foreign permanent resident ID card: the country, "
        "from the list, or its ISO 3166 three-letter code."
    ),
    "latin_name": _l("For a passport (required): the name as the passport writes it."),
    "gender": _l(
        "For travel permits, passports and 15-character permanent resident cards "
        "(required): 男 or 女, from the list."
    ),
    "birth_date": _l(
        "For travel permits, passports and 15-character permanent resident cards "
        "(required): the birth date."
    ),
}


# Required by some documents only (documents.check): a passport's country and Latin
# name, a permit's or passport's gender and birth date.
DOCUMENT_FIELDS = ("nationality", "latin_name", "gender", "birth_date")


def _required_label(field: str) -> str:
    if field in columns.REQUIRED:
        return _("Required")
    if field in DOCUMENT_FIELDS:
        return _("For some documents")
    return _("Optional")


def document_names() -> list[str]:
    """The documents' Chinese names, in DOCUMENT_TYPES order (the import reads them
    in any language: columns.document_type_of)."""
    first: dict[str, str] = {}
    for name, kind in columns.DOCUMENT_NAMES.items():
        first.setdefault(kind, name)
    return [first[kind] for kind in DOCUMENT_TYPES]


def country_names() -> list[str]:
    """The countries' Chinese names (the import reads a name or the code)."""
    with force_locale("zh_CN"):
        return sorted(set(countries().values()))


def room_label(building: str, room: str) -> str:
    return f"{building}/{room}"


class _Lists:
    """The hidden sheet holding the lists too long (or too awkward) to be inline."""

    def __init__(self, book: Workbook):
        self.book = book
        self.sheet: Worksheet | None = None
        self.used = 0

    def formula(self, values: list[str]) -> str:
        inline = ",".join(values)
        if len(inline) + 2 <= INLINE_LIMIT and not any(c in v for v in values for c in ',"'):
            return f'"{inline}"'
        if self.sheet is None:
            self.sheet = self.book.create_sheet(LISTS)
            self.sheet.sheet_state = "hidden"
        self.used += 1
        col = columns.letter(self.used - 1)
        for row, value in enumerate(values, start=1):
            # Written as text, so a room 0101 stays 0101 and a number no date.
            cell = self.sheet.cell(row=row, column=self.used, value=value)
            cell.number_format = TEXT_FORMAT
        return f"'{LISTS}'!${col}$1:${col}${max(1, len(values))}"


def _column_range(field: str) -> str:
    col = columns.letter(FIELDS.index(field))
    return f"{col}2:{col}{LAST_ROW}"


def _list_validation(sheet: Worksheet, field: str, formula: str, *, strict: bool = True) -> None:
    label = BY_FIELD[field].header
    validation = DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showErrorMessage=True,
        # A warning lets a value typed outside the list through (a room written
        # as its number alone); the import still checks it.
        errorStyle="stop" if strict else "warning",
        errorTitle=label,
        error=_("Choose a value from the list."),
    )
    validation.add(_column_range(field))
    sheet.add_data_validation(validation)


def _date_validation(sheet: Worksheet, field: str) -> None:
    validation = DataValidation(
        type="date",
        operator="between",
        formula1=f"DATE({EARLIEST_DAY.year},{EARLIEST_DAY.month},{EARLIEST_DAY.day})",
        formula2="TODAY()",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=BY_FIELD[field].header,
        error=_("Enter a date (2026-12-05), not in the future."),
        showInputMessage=True,
        promptTitle=BY_FIELD[field].header,
        prompt=_("A date, written 2026-12-05."),
    )
    validation.add(_column_range(field))
    sheet.add_data_validation(validation)


def _text_prompt(sheet: Worksheet, field: str) -> None:
    """The ID column's reminder; the validation checks nothing (any text)."""
    validation = DataValidation(
        type=None,
        allow_blank=True,
        showInputMessage=True,
        promptTitle=BY_FIELD[field].header,
        prompt=_("Text: all 18 characters, never a number like 3.30302E+17."),
    )
    validation.add(_column_range(field))
    sheet.add_data_validation(validation)


def _register_sheet(book: Workbook, site: Any, lists: _Lists) -> None:
    sheet = book.active
    sheet.title = SHEET
    bold = Font(bold=True)
    required = PatternFill("solid", fgColor="FFF2CC")
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = bold
        if column.required:
            cell.fill = required
        letter = columns.letter(index - 1)
        dimension = sheet.column_dimensions[letter]
        dimension.width = 22 if column.field in ("id_number", "room", "employer") else 14
        number_format = (
            DATE_FORMAT
            if column.kind == "date"
            else TEXT_FORMAT
            if column.field in TEXT_FIELDS
            else None
        )
        if number_format:
            dimension.number_format = number_format
            for row in range(2, FORMATTED_ROWS + 2):
                sheet.cell(row=row, column=index).number_format = number_format
    sheet.freeze_panes = "A2"
    buildings = sorted(site.buildings, key=lambda b: b.name)
    rooms = [
        room_label(b.name, r.number)
        for b in buildings
        for r in sorted(b.rooms, key=lambda r: r.number)
    ]
    _list_validation(sheet, "site_id", lists.formula([str(site.id)]))
    if buildings:
        _list_validation(sheet, "building", lists.formula([b.name for b in buildings]))
    if rooms:
        _list_validation(sheet, "room", lists.formula(rooms), strict=False)
    _list_validation(sheet, "document_type", lists.formula(document_names()))
    _list_validation(sheet, "gender", lists.formula(["男", "女"]))
    _list_validation(sheet, "nationality", lists.formula(country_names()), strict=False)
    for field in columns.DATE_FIELDS:
        _date_validation(sheet, field)
    _text_prompt(sheet, "id_number")


def _instructions_sheet(book: Workbook, site: Any) -> None:
    sheet = book.create_sheet(INSTRUCTIONS)
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 16
    sheet.column_dimensions["C"].width = 90
    wrap = Alignment(wrap_text=True, vertical="top")
    lines = [
        _("Residents register of %(site)s (site number %(id)d)", site=site.name, id=site.id),
        "",
        _(
            "Fill in the sheet %(sheet)s: one resident per row from row 2; keep row 1 (the "
            "column names) as it is. Upload the file on the import page.",
            sheet=SHEET,
        ),
        _(
            "The number and phone columns are formatted as text: keep them so, or Excel "
            "turns an ID number into 3.30302E+17 and loses its last digits (such a row is "
            "refused)."
        ),
        _(
            "Dates: date cells, or written like 2026-12-05, 2026/12/05, 2026.12.05, "
            "2026年12月5日 or 20261205."
        ),
        _("Identity documents: %(names)s.", names="、".join(document_names())),
        _(
            "A foreigner's stay (passport, foreign permanent resident ID card) must be "
            "registered within 24 hours of arrival (Exit and Entry Administration Law, "
            "art. 39); other residents within %(days)d days of moving in. A later report "
            "counts as late.",
            days=deadline_days(),
        ),
        _(
            "A row that cannot be imported is listed with its line, column and reason; the "
            "other rows are imported, and the same file imported again adds nothing."
        ),
        "",
    ]
    for number, text in enumerate(lines, start=1):
        cell = sheet.cell(row=number, column=1, value=text)
        if number == 1:
            cell.font = Font(bold=True, size=14)
        sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=3)
        cell.alignment = wrap
        if len(text) > 90:
            sheet.row_dimensions[number].height = 15 * (len(text) // 90 + 1)
    row = len(lines) + 1
    for col, title in enumerate((_("Column name"), _("Required?"), _("What to write")), start=1):
        sheet.cell(row=row, column=col, value=title).font = Font(bold=True)
    for column in COLUMNS:
        row += 1
        sheet.cell(row=row, column=1, value=column.header)
        sheet.cell(row=row, column=2, value=_required_label(column.field))
        sheet.cell(row=row, column=3, value=str(HELP[column.field])).alignment = wrap


def build(site: Any) -> bytes:
    """The template of `site` (its buildings and rooms loaded) as xlsx bytes."""
    book = Workbook()
    lists = _Lists(book)
    _register_sheet(book, site, lists)
    _instructions_sheet(book, site)
    if lists.sheet is not None:
        book.move_sheet(LISTS, offset=len(book.sheetnames))  # last, after the instructions
    book.active = 0
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def file_name(site: Any) -> str:
    """住户登记模板-<site>.xlsx, without characters a file name may not hold."""
    name = "".join(c for c in site.name if c not in '\\/:*?"<>|' and c.isprintable())
    return f"住户登记模板-{name.strip() or site.id}.xlsx"


__all__ = ["HELP", "build", "file_name"]
