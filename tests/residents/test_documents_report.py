"""Reporting a resident with another identity document than the ID card (issue 19
items 3 and 4): the form and the QR declaration take the document's kind, country,
Latin name and the holder's facts; the number is encrypted, found again by its
keyed hash and shown masked; a foreigner's stay is late after 24 hours."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from community.core.timeutil import today as _today
from community.core.validators import check_digit
from community.residents import rules, services
from community.residents.models import Person, Residence
from tests.conftest import csrf_from
from tests.factories.residents import id_number


def _post(client, url, **fields):
    page = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "phone": "13812345678", **fields}
    return client.post(url, data=data)


PASSPORT = {
    "document_type": "passport",
    "id_number": "M 1234 5678",
    "nationality": "KOR",
    "latin_name": "KIM MIN JUN",
    "gender": "M",
    "birth_date": "1995-03-01",
    "name": "",
}


def test_a_landlord_reports_a_passport_holder_through_the_form(client, login, world, session):
    login(world.landlord)
    form = client.get(f"/residents/new?room_id={world.room.id}").get_data(as_text=True)
    assert 'name="document_type"' in form and 'value="passport"' in form
    assert 'name="nationality"' in form and 'value="KOR"' in form
    resp = _post(
        client,
        "/residents/new",
        room_id=world.room.id,
        move_in=_today().isoformat(),
        **PASSPORT,
    )
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    residence = session.scalar(select(Residence).order_by(Residence.id.desc()))
    person = session.get(Person, residence.person_id)
    assert (person.document_type, person.nationality, person.id_number) == (
        "passport",
        "KOR",
        "M12345678",
    )
    assert (person.gender, person.birth_date) == ("M", date(1995, 3, 1))
    # The name as the passport writes it stands for a name when none is given.
    assert (residence.name, residence.latin_name) == ("KIM MIN JUN", "KIM MIN JUN")
    raw = session.execute(
        text("SELECT id_number FROM person WHERE id = :id"), {"id": person.id}
    ).scalar()
    assert raw.startswith("v1:") and "M12345678" not in raw
    page = client.get(f"/residents/{residence.id}").get_data(as_text=True)
    assert "Passport" in page and "South Korea" in page and "M12345678" not in page
    assert 'data-chip="foreign"' in page or "Foreign national" in page
    # The same passport again is the same person (found by its keyed hash).
    again = _post(
        client,
        "/residents/new",
        room_id=world.room2.id,
        move_in=_today().isoformat(),
        **PASSPORT,
    )
    assert again.status_code == 303
    latest = session.scalar(select(Residence).order_by(Residence.id.desc()))
    assert latest.person_id == person.id


def test_a_passport_without_its_country_is_refused_with_the_field_named(
    client, login, world, session
):
    login(world.landlord)
    resp = _post(
        client,
        "/residents/new",
        room_id=world.room.id,
        move_in=_today().isoformat(),
        **{**PASSPORT, "nationality": "", "latin_name": ""},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'aria-describedby="nationality-error"' in body
    assert 'aria-describedby="latin_name-error"' in body
    assert session.scalar(select(Residence.id)) is None


def test_a_residence_permit_typed_as_an_id_card_is_named(client, login, world):
    login(world.landlord)
    first17 = "81000019900101001"
    resp = _post(
        client,
        "/residents/new",
        room_id=world.room.id,
        move_in=_today().isoformat(),
        name="陈大文",
        id_number=first17 + check_digit(first17),
    )
    assert resp.status_code == 422
    assert "residence permit" in resp.get_data(as_text=True)


def test_a_hong_kong_permit_through_the_qr_declaration(app, world, session):
    client = app.test_client()
    resp = _post(
        client,
        f"/declare/{world.site.qr_token}",
        room_id=world.room.id,
        name="陈大文",
        document_type="hk_macao_permit",
        id_number="H12345678",
        gender="M",
        birth_date="1988-08-08",
        move_in=_today().isoformat(),
        consent="y",
    )
    assert resp.status_code == 303, resp.get_data(as_text=True)[:1500]
    residence = session.scalar(select(Residence).order_by(Residence.id.desc()))
    person = session.get(Person, residence.person_id)
    assert (person.document_type, person.nationality) == ("hk_macao_permit", None)
    assert not residence.late  # not a foreigner: the usual deadline


@pytest.mark.parametrize(
    "days_after, foreign, late",
    [
        (0, True, False),
        (1, True, False),
        (2, True, True),
        (2, False, False),
        (3, False, False),
        (4, False, True),
    ],
)
def test_a_foreigners_stay_is_due_within_24_hours(app_ctx, days_after, foreign, late):
    arrived = date(2026, 6, 1)
    assert rules.is_late(arrived, arrived + timedelta(days=days_after), foreign=foreign) is late


def _passport_report(session, world, *, phone, move_in):
    """A landlord's report of a Japanese passport holder in room 101."""
    return services.report_residence(
        session,
        world.landlord,
        world.room,
        name="",
        id_number="E7654321",
        phone=phone,
        move_in=move_in,
        channel="landlord",
        document_type="passport",
        nationality="JPN",
        latin_name="SATO HANAKO",
        gender="F",
        birth_date=date(1990, 5, 5),
    )


def test_a_passport_report_two_days_after_arrival_is_late(session, world):
    residence = _passport_report(session, world, phone=None, move_in=_today() - timedelta(days=2))
    assert residence.late
    ordinary = services.report_residence(
        session,
        world.landlord,
        world.room2,
        name="王小明",
        id_number=id_number(),
        phone=None,
        move_in=_today() - timedelta(days=2),
        channel="landlord",
    )
    assert not ordinary.late


def test_a_correction_keeps_the_stored_passport_when_the_number_is_left_empty(session, world):
    residence = _passport_report(session, world, phone="13812345678", move_in=_today())
    services.reject_residence(session, world.police, residence, "房间号不对")
    services.resubmit_residence(
        session,
        world.landlord,
        residence,
        name="佐藤花子",
        id_number="",
        phone="",
        move_in=_today(),
    )
    session.expire_all()
    stored = session.get(Residence, residence.id)
    person = session.get(Person, stored.person_id)
    assert stored.status == "pending" and stored.name == "佐藤花子"
    assert (person.document_type, person.nationality, person.id_number) == (
        "passport",
        "JPN",
        "E7654321",
    )
    assert stored.latin_name == "SATO HANAKO"
