"""Validators for Chinese ID numbers (GB 11643) and mobile phone numbers."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalize_id_number(value: str) -> str:
    return value.strip().upper()


def is_valid_id_number(value: str) -> bool:
    value = normalize_id_number(value)
    if not _ID_RE.match(value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == value[17]


def is_valid_phone(value: str) -> bool:
    return bool(_PHONE_RE.match(value.strip()))


class IdNumber:
    def __call__(self, form, field):
        if field.data and not is_valid_id_number(field.data):
            raise ValidationError(_l("Enter a valid 18-digit ID number."))


class Phone:
    def __call__(self, form, field):
        if field.data and not is_valid_phone(field.data):
            raise ValidationError(_l("Enter an 11-digit mobile number."))


# Ids are 32-bit integer columns; a larger number in a URL or filter matches nothing.
MAX_ID = 2**31 - 1


def is_id(value: int | None) -> bool:
    return value is not None and 1 <= value <= MAX_ID
