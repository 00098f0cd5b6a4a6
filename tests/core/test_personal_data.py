"""Encryption at rest, lookup hashes, masking and validators of personal data."""

from __future__ import annotations

import pytest

from community.core import crypto
from community.core.validators import is_valid_id_number, is_valid_phone


def test_encrypt_round_trip_and_nonce(app_ctx):
    a = crypto.encrypt("13812345678")
    b = crypto.encrypt("13812345678")
    assert a != b and "13812345678" not in a
    assert crypto.decrypt(a) == "13812345678"


def test_tampered_ciphertext_is_refused(app_ctx):
    token = crypto.encrypt("secret")
    broken = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do, never plaintext
        crypto.decrypt(broken)


def test_lookup_hash_is_stable_and_keyed(app, app_ctx):
    assert crypto.lookup_hash("33030219900101123x") == crypto.lookup_hash("33030219900101123X")
    first = crypto.lookup_hash("13812345678")
    app.config["COMMUNITY_DATA_KEY"], old = (
        "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMDE=",
        app.config["COMMUNITY_DATA_KEY"],
    )
    try:
        assert crypto.lookup_hash("13812345678") != first
    finally:
        app.config["COMMUNITY_DATA_KEY"] = old


def test_missing_key_is_a_clear_error(app, app_ctx):
    old = app.config["COMMUNITY_DATA_KEY"]
    app.config["COMMUNITY_DATA_KEY"] = None
    try:
        with pytest.raises(crypto.DataKeyMissing, match="COMMUNITY_DATA_KEY"):
            crypto.encrypt("x")
    finally:
        app.config["COMMUNITY_DATA_KEY"] = old


@pytest.mark.parametrize(
    "value,masked",
    [("13812345678", "138****5678"), ("", ""), (None, ""), ("12345", "*****")],
)
def test_mask_phone(value, masked):
    assert crypto.mask_phone(value) == masked


def test_mask_id_number():
    assert crypto.mask_id_number("33030219900101123X") == "330302********123X"


@pytest.mark.parametrize(
    "number,ok",
    [
        ("11010519491231002X", True),
        ("110105194912310021", False),  # wrong check digit
        ("11010519491331002X", False),  # month 13
        ("1101051949123100", False),
        ("11010519491231002x", True),  # lower-case x is accepted
    ],
)
def test_id_number_check_digit(number, ok):
    assert is_valid_id_number(number) is ok


@pytest.mark.parametrize(
    "phone,ok", [("13812345678", True), ("12812345678", False), ("1381234567", False)]
)
def test_phone(phone, ok):
    assert is_valid_phone(phone) is ok
