"""Validators for Chinese ID numbers (GB 11643), mobile phone numbers and written dates.

`id_number_error(value)` says what is wrong with a resident ID number (the
length, a character, the birth date) so the person typing it can fix that one
thing; a failed check digit only says that the number does not pass the check (a
typo anywhere changes the expected digit, so naming it would invite "fixing" the
last character); `is_valid_id_number` is its yes/no form, and
`id_number_facts` reads gender and birth date from a valid number.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from operator import mul

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from community.core import timeutil

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
EARLIEST_BIRTH = date(1900, 1, 1)


_SPACES = re.compile(r"\s+")
_SPACES_DASHES = re.compile(r"[\s-]+")


def normalize_id_number(value: str) -> str:
    """Without surrounding and inner spaces, a lowercase x read as X."""
    return _SPACES.sub("", value or "").upper()


def check_digit(first17: str) -> str:
    """The 18th character of a number starting with these 17 digits (ISO 7064 MOD 11-2)."""
    if len(first17) != len(_WEIGHTS):
        raise ValueError("17 digits expected")
    # map() rather than a generator: an import checks 100,000 numbers in a row.
    return _CHECK[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


def _birth_date(value: str) -> date | None:
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def id_number_error(value: str, today: date | None = None) -> str | None:
    """What is wrong with `value` as an 18-character resident ID number, or None."""
    value = normalize_id_number(value)
    if len(value) != 18:
        return _("An ID number has 18 characters; this one has %(num)d.", num=len(value))
    if not _ID_RE.match(value):
        return _("Only digits are allowed, and X as the last character.")
    born = _birth_date(value)
    if born is None:
        return _("The birth date in the ID number is not a real date.")
    if born < EARLIEST_BIRTH or born > (today or timeutil.today()):
        return _(
            "The birth date in the ID number (%(date)s) is not possible.", date=born.isoformat()
        )
    if check_digit(value[:17]) != value[17]:
        return _("This ID number does not pass the check: compare it with the card digit by digit.")
    return None


def is_valid_id_number(value: str) -> bool:
    return id_number_error(value) is None


def id_number_facts(value: str) -> tuple[str, date]:
    """(gender "M"/"F", birth date) of a valid number: the 17th digit is odd for men."""
    value = normalize_id_number(value)
    born = _birth_date(value)
    if born is None:
        raise ValueError("not a valid ID number")
    return ("M" if int(value[16]) % 2 else "F"), born


def normalize_phone(value: str) -> str:
    return _SPACES_DASHES.sub("", value or "")


def is_valid_phone(value: str) -> bool:
    return bool(_PHONE_RE.match(normalize_phone(value)))


def phone_error(value: str) -> str | None:
    """What is wrong with `value` as a mainland mobile number, or None."""
    if is_valid_phone(value):
        return None
    return _("A mobile number has 11 digits and starts with 13 to 19.")


# The ways people write a day (an xlsx date cell arrives as a date already):
# 2026-12-05, 2026/12/5, 2026.12.05 (one separator throughout), 2026年12月5日 and
# 20261205; full-width digits and separators are read as ASCII, and a time of day
# after the date (Excel's CSV writes "2026/12/5 0:00") is ignored.
_DATE_SEPARATED = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$")
_DATE_CHINESE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$")
_DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME_AFTER = re.compile(r"\s+\d{1,2}:\d{2}(:\d{2})?$")


def unreadable_date_message() -> str:
    return _(
        "This date cannot be read. Write it like 2026-12-05, 2026/12/05, 2026.12.05, "
        "2026年12月5日 or 20261205."
    )


def read_date(text: str | None) -> tuple[date | None, str | None]:
    """The day written in `text` (see the forms above) as (date, None); (None, None)
    when it is blank; (None, message) when it is not a day: the message says which
    forms are read, or that the day does not exist. The one date reader of the
    spreadsheet import and of the forms' date fields (core.forms.WrittenDateField)."""
    value = unicodedata.normalize("NFKC", text or "").strip()
    if not value:
        return None, None
    value = _TIME_AFTER.sub("", value)
    value = re.sub(r"\s+", "", value)
    for pattern in (_DATE_SEPARATED, _DATE_CHINESE, _DATE_DIGITS):
        match = pattern.match(value)
        if match:
            parts = [g for g in match.groups() if g.isdigit()]
            try:
                return date(int(parts[0]), int(parts[1]), int(parts[2])), None
            except ValueError:
                return None, _("%(value)s is not a real date.", value=value)
    return None, unreadable_date_message()


class IdNumber:
    def __call__(self, form, field):
        if field.data:
            message = id_number_error(field.data)
            if message:
                raise ValidationError(message)


class Phone:
    def __call__(self, form, field):
        if field.data and not is_valid_phone(field.data):
            raise ValidationError(_l("Enter an 11-digit mobile number."))


# The days a form may name. Python's calendar runs from year 1 to 9999, and a day near
# either end overflows once the time zone is applied or a week added (a 500, found by
# tests/sweeps/test_fuzz.py); no record of this app lies outside these years.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)


def in_day_range(value: date | datetime) -> bool:
    """True when the day of `value` lies between EARLIEST_DAY and LATEST_DAY."""
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST_DAY <= day <= LATEST_DAY


def day_range_message() -> str:
    return _(
        "Give a date between %(first)s and %(last)s.",
        first=EARLIEST_DAY.isoformat(),
        last=LATEST_DAY.isoformat(),
    )


class InDayRange:
    """A date or datetime field's value within EARLIEST_DAY..LATEST_DAY (a blank one
    is left to the field's other validators)."""

    def __call__(self, form, field):
        if field.data is not None and not in_day_range(field.data):
            raise ValidationError(day_range_message())


def read_month(text: str | None) -> date | None:
    """The first day of the month written YYYY-MM, or None when `text` is not one
    (or lies outside EARLIEST_DAY..LATEST_DAY)."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", (text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    month = date(int(match.group(1)), int(match.group(2)), 1)
    return month if in_day_range(month) else None


# Ids are 32-bit integer columns; a larger number in a URL or filter matches nothing.
MAX_ID = 2**31 - 1


def is_id(value: int | None) -> bool:
    return value is not None and 1 <= value <= MAX_ID
