"""Identity documents a resident may hold, each with its own number rule.

居民身份证 and 港澳台居民居住证 are 18-character GB 11643 numbers (the permit's
start 810000 Hong Kong, 820000 Macao, 830000 Taiwan); the 2023 外国人永久居留身份证
is one too, starting with 9; its 2017 form is 3 Latin letters (the holder's
country) and 12 digits. The travel permits (港澳居民来往内地通行证: H or M and 8
digits, older cards 2 more; 台湾居民来往大陆通行证: 8 digits, older cards 10) and
passports (letters and digits, with the issuing country as an ISO 3166 alpha-3
code and the holder's name in Latin letters) say nothing of the holder's birth
date or gender: the report gives them.

`check(...)` answers the errors per field (the report's RuleViolation) and the
facts a valid document gives; `lookup_key` is what the keyed hash of a person is
made of (an 18-character number alone, as it always was, so people recorded
before document types find themselves again; any other document with its type,
and a passport with its country, since passport numbers repeat across countries).
The holders of a foreign passport or permanent-residence card are 境外人员: their
stay is due with the police within 24 hours of arrival (is_foreign, rules.is_late).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from babel.core import get_global
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from community.core.validators import EARLIEST_BIRTH, id_number_error, id_number_facts

ID_CARD = "id_card"
DOCUMENT_TYPES = (
    ID_CARD,
    "residence_permit",
    "permanent_residence",
    "hk_macao_permit",
    "taiwan_permit",
    "passport",
)
DOCUMENT_LABELS = {
    ID_CARD: _l("Resident ID card"),
    "residence_permit": _l("Residence permit for Hong Kong, Macao and Taiwan residents"),
    "permanent_residence": _l("Foreign permanent resident ID card"),
    "hk_macao_permit": _l("Mainland travel permit for Hong Kong and Macao residents"),
    "taiwan_permit": _l("Mainland travel permit for Taiwan residents"),
    "passport": _l("Passport"),
}
# Their stay is due with the police within 24 hours (Exit and Entry Administration
# Law, art. 39).
FOREIGN_DOCUMENTS = ("permanent_residence", "passport")
PERMIT_PREFIXES = ("810000", "820000", "830000")

_GB11643 = re.compile(r"^\d{17}[\dX]$")
_PR_2017 = re.compile(r"^[A-Z]{3}\d{12}$")
_HK_MACAO = re.compile(r"^[HM]\d{8}(\d{2})?$")
_TAIWAN = re.compile(r"^\d{8}(\d{2})?$")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,17}$")
_LATIN_NAME = re.compile(r"^[A-Za-z][A-Za-z .,'-]*$")


def is_foreign(document_type: str | None) -> bool:
    return document_type in FOREIGN_DOCUMENTS


_SPACES_DASHES = re.compile(r"[\s-]+")


def normalize_number(value: str) -> str:
    """Full-width characters read as ASCII, spaces and dashes dropped, upper case."""
    value = value or ""
    if not value.isascii():  # NFKC leaves ASCII as it is
        value = unicodedata.normalize("NFKC", value)
    return _SPACES_DASHES.sub("", value).upper()


def countries() -> dict[str, str]:
    """ISO 3166 alpha-3 code -> the country's name in the reader's language, from
    the CLDR data Babel carries (no list of our own)."""
    locale = get_locale()
    names = locale.territories if locale is not None else {}
    found = {}
    for code, targets in get_global("territory_aliases").items():
        if len(code) == 3 and code.isalpha() and len(targets) == 1 and targets[0] in names:
            found[code] = names[targets[0]]
    return dict(sorted(found.items(), key=lambda item: item[1]))


def is_country(code: str | None) -> bool:
    aliases = get_global("territory_aliases")
    return bool(code) and len(code) == 3 and code.isalpha() and code in aliases


@dataclass(frozen=True)
class Document:
    """A checked document: its type, normalised number and country (passports),
    and what the number says of its holder (None when it says nothing)."""

    type: str
    number: str
    nationality: str | None
    gender: str | None
    birth_date: date | None
    latin_name: str | None = None


# A long number as Excel shows and saves it once it took the cell for a number:
# 3.30302E+17 (in the cell, and in a CSV it saves) — its last digits are gone.
_EXCEL_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?E\+?\d{1,2}$")


def excel_number_message() -> str:
    return _(
        "Excel has turned this number into a number like 3.30302E+17 and lost its last "
        "digits: format the document number column as text (the import page's template "
        "does) and enter the numbers again."
    )


def _from_a_number_cell(number: str) -> bool:
    """True when 16 to 20 digits look like what Excel or a spreadsheet reader made of
    a number cell: at most 15 significant digits and zeros after them, or a value a
    floating-point number holds exactly (a float 330302199001011234.0 read from an
    xlsx is 330302199001011264). Only asked of a number that failed its check."""
    if not (number.isdigit() and 16 <= len(number) <= 20):
        return False
    return number.endswith("000") or float(int(number)) == int(number)


def _number_error(kind: str, number: str, today: date) -> str | None:
    if _EXCEL_SCIENTIFIC.match(number):
        return excel_number_message()
    if kind == ID_CARD:
        message = id_number_error(number, today)
        if message is None and number.startswith(PERMIT_PREFIXES):
            return _(
                "This is the number of a residence permit for Hong Kong, Macao and Taiwan "
                "residents: choose that document."
            )
        if message is None and number.startswith("9"):
            return _(
                "This is the number of a foreign permanent resident ID card: choose that document."
            )
        return message
    if kind == "residence_permit":
        if len(number) == 18 and not number.startswith(PERMIT_PREFIXES):
            return _("A residence permit number starts with 810000, 820000 or 830000.")
        return id_number_error(number, today)
    if kind == "permanent_residence":
        if len(number) == 15:
            if not _PR_2017.match(number):
                return _("A 15-character card number is 3 letters and 12 digits.")
            return None
        if len(number) == 18 and not number.startswith("9"):
            return _("An 18-character card number starts with 9.")
        if len(number) != 18:
            return _(
                "A permanent resident ID card number has 18 characters (15 on cards "
                "issued before December 2023); this one has %(num)d.",
                num=len(number),
            )
        return id_number_error(number, today)
    if kind == "hk_macao_permit":
        if not _HK_MACAO.match(number):
            return _("The permit number is H or M followed by 8 digits (10 on older cards).")
        return None
    if kind == "taiwan_permit":
        if not _TAIWAN.match(number):
            return _("The permit number has 8 digits (10 on older cards).")
        return None
    if not _PASSPORT.match(number):
        return _("A passport number has 5 to 17 letters and digits.")
    return None


def _says_facts(kind: str, number: str) -> bool:
    return kind in (ID_CARD, "residence_permit") or (
        kind == "permanent_residence" and len(number) == 18
    )


def check(
    *,
    kind: str | None,
    number: str,
    nationality: str | None,
    latin_name: str | None,
    gender: str | None,
    birth_date: date | None,
    today: date,
    spreadsheet: bool = False,
) -> tuple[Document | None, list[tuple[str, str]]]:
    """The document and its holder's facts, or the errors per field (document_type,
    id_number, nationality, latin_name, gender, birth_date). A number in Excel's
    scientific notation is refused saying so; with `spreadsheet` (a cell of an
    imported file) so is a refused number of 16 to 20 digits that a number cell made
    (_from_a_number_cell)."""
    kind = kind or ID_CARD
    if kind not in DOCUMENT_TYPES:
        return None, [("document_type", _("Choose the kind of identity document."))]
    number = normalize_number(number)
    latin = " ".join((latin_name or "").split()) or None
    errors: list[tuple[str, str]] = []
    if not number:
        errors.append(("id_number", _("Enter the document number.")))
    else:
        message = _number_error(kind, number, today)
        if message and spreadsheet and _from_a_number_cell(number):
            message = excel_number_message()
        if message:
            errors.append(("id_number", message))
    country = (nationality or "").strip().upper() or None
    if kind not in FOREIGN_DOCUMENTS:
        country = None
    elif country is not None and not is_country(country):
        errors.append(("nationality", _("Choose a country from the list.")))
    elif country is None and kind == "passport":
        errors.append(("nationality", _("Choose the country that issued the passport.")))
    elif country is None and len(number) == 15 and is_country(number[:3]):
        country = number[:3]  # the 2017 card's number begins with its holder's country
    if kind == "passport" and not latin:
        errors.append(("latin_name", _("Enter the name as the passport writes it.")))
    elif latin and (len(latin) > 80 or not _LATIN_NAME.match(latin)):
        errors.append(
            ("latin_name", _("Latin letters, spaces, dots, commas, apostrophes and dashes."))
        )
    if errors:
        return None, errors
    if _says_facts(kind, number):
        said_gender, said_birth = id_number_facts(number)
        return Document(kind, number, country, said_gender, said_birth, latin), []
    if gender not in ("M", "F"):
        errors.append(("gender", _("Choose the gender as the document shows it.")))
    if birth_date is None:
        errors.append(("birth_date", _("Enter the birth date as the document shows it.")))
    elif not EARLIEST_BIRTH <= birth_date <= today:
        errors.append(("birth_date", _("This birth date is not possible.")))
    if errors:
        return None, errors
    return Document(kind, number, country, gender, birth_date, latin), []


def lookup_key(document: Document) -> str:
    """What the person's keyed hash is made of (see the module docstring)."""
    if len(document.number) == 18 and _GB11643.match(document.number):
        return document.number
    if document.type == "passport":
        return f"passport:{document.nationality}:{document.number}"
    return f"{document.type}:{document.number}"


__all__ = [
    "DOCUMENT_LABELS",
    "DOCUMENT_TYPES",
    "FOREIGN_DOCUMENTS",
    "ID_CARD",
    "Document",
    "check",
    "countries",
    "excel_number_message",
    "is_country",
    "is_foreign",
    "lookup_key",
    "normalize_number",
]
