"""Resident ID numbers (GB 11643, ISO 7064 MOD 11-2) and mobile numbers: what is
accepted, and a message that says what is wrong."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale

from community.core.validators import (
    check_digit,
    id_number_error,
    id_number_facts,
    is_valid_id_number,
    is_valid_phone,
    phone_error,
)

WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


def by_the_standard(first17: str) -> str:
    """The check digit computed from the definition: weights 2^(17-i) mod 11."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


@pytest.mark.parametrize(
    "first17", ["11010519491231002", "44030419900307123", "33030219851120001", "51010720001231567"]
)
def test_check_digit_follows_the_standard(first17):
    assert check_digit(first17) == by_the_standard(first17)
    assert is_valid_id_number(first17 + by_the_standard(first17))


def test_known_valid_numbers():
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("11010519491231002x")  # lowercase x read as X
    assert is_valid_id_number(" 1101051949 1231002X ")


@pytest.mark.parametrize(
    "number,message",
    [
        ("1101051949123100", "An ID number has 18 characters; this one has 16."),
        ("11010519491231002A", "Only digits are allowed, and X as the last character."),
        ("110105194902300021", "The birth date in the ID number is not a real date."),
        ("11010518991231002X", "The birth date in the ID number (1899-12-31) is not possible."),
        (
            "110105194912310021",
            "This ID number does not pass the check: compare it with the card digit by digit.",
        ),
    ],
)
def test_errors_say_what_is_wrong(app_ctx, number, message):
    with force_locale("en"):
        assert id_number_error(number, today=date(2026, 1, 1)) == message


def test_a_birth_date_in_the_future_is_refused(app_ctx):
    first17 = "11010520300101001"
    number = first17 + check_digit(first17)
    with force_locale("en"):
        assert "not possible" in id_number_error(number, today=date(2026, 1, 1))


def test_a_failed_check_digit_does_not_give_the_answer(app_ctx):
    """A typo anywhere changes the expected check digit: naming it would invite the
    person to "fix" the last character of a number that is wrong elsewhere."""
    typo = "110105194912310012"  # 11010519491231002X with two digits swapped
    with force_locale("zh_CN"):
        message = id_number_error(typo)
    assert message == "身份证号码未通过校验，请对照证件逐位核对。"
    assert "X" not in message and "应为" not in message


def test_gender_and_birth_date_come_from_the_number():
    assert id_number_facts("11010519491231002X") == ("F", date(1949, 12, 31))
    first17 = "33030219900101011"
    assert id_number_facts(first17 + check_digit(first17)) == ("M", date(1990, 1, 1))


@pytest.mark.parametrize(
    "phone,ok",
    [("13812345678", True), ("199 1234 5678", True), ("12812345678", False), ("1381234567", False)],
)
def test_mobile_numbers(app_ctx, phone, ok):
    assert is_valid_phone(phone) is ok
    assert (phone_error(phone) is None) is ok
