"""ID numbers Excel already turned into numbers (issue 19): 3.30302E+17 as text in
a CSV or a cell, a float read from an xlsx number cell, 15 digits and zeros in a CSV
Excel saved — each refused with its own message (format the column as text, the
template does), never as a check-digit puzzle; a number kept as text still
imports."""

from __future__ import annotations

import io

import openpyxl
import pytest
from flask_babel import force_locale

from community.core.validators import id_number_error
from community.residents import documents
from community.residents.imports.files import HEADER
from community.residents.imports.services import import_file
from tests.factories.residents import id_number
from tests.residents.test_imports import YESTERDAY, csv_bytes

EXCEL = "Excel has turned this number into a number like 3.30302E+17"


@pytest.fixture(autouse=True)
def _english(app_ctx):
    with force_locale("en"):
        yield


def _mangled_number() -> tuple[str, float]:
    """A valid number whose float (as an xlsx number cell holds it) fails the check."""
    for serial in range(1, 200):
        number = id_number(serial=serial)
        if not number.isdigit():
            continue
        as_float = float(int(number))
        if id_number_error(str(int(as_float))) is not None:
            return number, as_float
    raise AssertionError("no such number")


def _row(world, number) -> list:
    return [world.site.id, "A座", "101", "张三", number, "13812345678", YESTERDAY, "", ""]


def _xlsx(world, number_cell) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(HEADER))
    sheet.append(_row(world, number_cell))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _refusal(result) -> tuple[str, str]:
    assert (result.imported, result.refused) == (0, 1)
    (problem,) = result.problems
    return problem.column, problem.reason


@pytest.mark.parametrize("written", ["3.30302E+17", "3.30302e+17", "3.30302199001011E+17"])
def test_a_csv_with_the_scientific_notation_is_refused_saying_so(session, world, written):
    result = import_file(session, world.landlord, csv_bytes([_row(world, written)]))
    column, reason = _refusal(result)
    assert column == "id_number" and reason.startswith(EXCEL)
    assert "format the document number column as text" in reason and "template" in reason


def test_a_csv_with_fifteen_digits_and_zeros_is_refused_saying_so(session, world):
    number, _float = _mangled_number()
    shown = number[:15] + "000"  # Excel keeps 15 significant digits
    assert id_number_error(shown) is not None
    result = import_file(session, world.landlord, csv_bytes([_row(world, shown)]))
    assert _refusal(result) == ("id_number", documents.excel_number_message())


def test_an_xlsx_number_cell_is_refused_saying_so(session, world):
    number, as_float = _mangled_number()
    result = import_file(session, world.landlord, _xlsx(world, as_float))
    assert _refusal(result) == ("id_number", documents.excel_number_message())


def test_an_xlsx_text_cell_in_scientific_notation_is_refused_saying_so(session, world):
    result = import_file(session, world.landlord, _xlsx(world, "3.30302E+17"))
    assert _refusal(result) == ("id_number", documents.excel_number_message())


def test_an_xlsx_integer_cell_loses_digits_too_and_a_text_cell_imports(session, world):
    """A spreadsheet keeps a number cell to about 15 significant digits (openpyxl
    writes 330302199001010031 as 3.3030219900101e+17): refused the same way; the same
    number in a text cell, as the template's column holds it, imports."""
    number, _float = _mangled_number()
    whole = import_file(session, world.landlord, _xlsx(world, int(number)))
    assert _refusal(whole) == ("id_number", documents.excel_number_message())
    text = import_file(session, world.landlord, _xlsx(world, number))
    assert (text.imported, text.refused) == (1, 0), text.errors


def test_a_typo_in_a_typed_number_is_still_a_check_digit_problem(session, world):
    """A number written with a wrong last digit (not a number cell's shape) keeps the
    check's own message; the Excel message is only for what a number cell made."""
    number = id_number(serial=7)
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    assert float(int(wrong)) != int(wrong) and not wrong.endswith("000")
    result = import_file(session, world.landlord, csv_bytes([_row(world, wrong)]))
    column, reason = _refusal(result)
    assert column == "id_number" and "does not pass the check" in reason
