"""Identity documents: each type's number rule, the facts it gives, the country
and Latin name of a passport, and the keyed hash's key (residents/documents.py)."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale

from community.core.validators import check_digit
from community.residents import documents
from tests.factories.residents import id_number

TODAY = date(2026, 12, 7)


def gb11643(first17: str) -> str:
    return first17 + check_digit(first17)


PERMIT = gb11643("81000019900101001")  # Hong Kong resident, born 1990-01-01, male
PR_2023 = gb11643("91184019850612002")  # 9, province 11, country 840, 1985-06-12, female
PR_2017 = "USA110085061200"  # 3 letters, 12 digits


def _check(kind, number, **kw):
    values = {"nationality": None, "latin_name": None, "gender": None, "birth_date": None}
    values.update(kw)
    with force_locale("en"):
        return documents.check(kind=kind, number=number, today=TODAY, **values)


@pytest.mark.parametrize(
    "kind, number, gender, born",
    [
        ("id_card", id_number(date(1990, 1, 1), male=True), "M", date(1990, 1, 1)),
        ("residence_permit", PERMIT, "M", date(1990, 1, 1)),
        ("permanent_residence", PR_2023, "F", date(1985, 6, 12)),
    ],
)
def test_gb11643_documents_give_gender_and_birth_date(app_ctx, kind, number, gender, born):
    document, errors = _check(kind, number.lower().replace("x", "x"))
    assert errors == []
    assert (document.type, document.gender, document.birth_date) == (kind, gender, born)
    assert documents.lookup_key(document) == number  # as before document types


def test_an_empty_type_is_the_resident_id_card(app_ctx):
    document, errors = _check(None, id_number())
    assert errors == [] and document.type == "id_card"


@pytest.mark.parametrize(
    "kind, number, message",
    [
        ("id_card", PERMIT, "residence permit"),
        ("id_card", PR_2023, "foreign permanent resident"),
        ("residence_permit", id_number(), "810000, 820000 or 830000"),
        ("permanent_residence", id_number(), "starts with 9"),
        ("permanent_residence", "USA11008506120", "18 characters"),
        ("permanent_residence", "US1110085061200", "3 letters and 12 digits"),
        ("hk_macao_permit", "X12345678", "H or M"),
        ("taiwan_permit", "1234567", "8 digits"),
        ("passport", "E12", "5 to 17"),
        ("permanent_residence", PR_2023[:-1] + ("0" if PR_2023[-1] != "0" else "1"), "check"),
    ],
)
def test_a_number_of_the_wrong_shape_or_type_is_named(app_ctx, kind, number, message):
    document, errors = _check(
        kind,
        number,
        gender="M",
        birth_date=date(1990, 1, 1),
        nationality="KOR",
        latin_name="Kim",
    )
    assert document is None
    assert [f for f, _m in errors] == ["id_number"] and message in errors[0][1]


def test_a_2017_card_gives_its_country_and_asks_the_holder_facts(app_ctx):
    document, errors = _check("permanent_residence", PR_2017)
    assert sorted(f for f, _m in errors) == ["birth_date", "gender"]
    document, errors = _check(
        "permanent_residence", PR_2017, gender="F", birth_date=date(1985, 6, 12)
    )
    assert errors == [] and document.nationality == "USA"
    assert documents.lookup_key(document) == f"permanent_residence:{PR_2017}"


def test_a_passport_needs_its_country_its_latin_name_and_the_holder_facts(app_ctx):
    document, errors = _check("passport", "e 1234 5678")
    assert document is None
    assert sorted(f for f, _m in errors) == ["latin_name", "nationality"]
    document, errors = _check("passport", "E12345678", nationality="XYZ", latin_name="李 明")
    assert sorted(f for f, _m in errors) == ["latin_name", "nationality"]
    document, errors = _check(
        "passport",
        "ｅ１２３４５６７８",
        nationality="kor",
        latin_name="  KIM   Min-jun ",
        gender="M",
        birth_date=date(1995, 3, 1),
    )
    assert errors == []
    assert (document.number, document.nationality, document.latin_name) == (
        "E12345678",
        "KOR",
        "KIM Min-jun",
    )
    assert documents.is_foreign(document.type)
    # The same number from another country is another person.
    other, _ = _check(
        "passport",
        "E12345678",
        nationality="JPN",
        latin_name="Sato",
        gender="M",
        birth_date=date(1995, 3, 1),
    )
    assert documents.lookup_key(document) != documents.lookup_key(other)


def test_a_birth_date_in_the_future_is_refused(app_ctx):
    _doc, errors = _check("taiwan_permit", "12345678", gender="F", birth_date=date(2027, 1, 1))
    assert [f for f, _m in errors] == ["birth_date"]


def test_country_names_follow_the_reader(app_ctx):
    with force_locale("zh_Hans_CN"):
        chinese = documents.countries()
    with force_locale("en"):
        english = documents.countries()
    assert chinese["KOR"] == "韩国" and english["KOR"] == "South Korea"
    assert len(english) > 200 and "CHN" in english


def test_only_passports_and_permanent_cards_are_foreign():
    assert [t for t in documents.DOCUMENT_TYPES if documents.is_foreign(t)] == [
        "permanent_residence",
        "passport",
    ]
