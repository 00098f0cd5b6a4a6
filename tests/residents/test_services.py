"""The residence rules: validation per field, persons found by their keyed hash,
encryption at rest, every channel, decisions (409 on a second one), one active
residence, resubmission, move-out, reveal and what the audit keeps."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from community.core.crypto import lookup_hash
from community.core.errors import Conflict, RuleViolation
from community.core.models import AuditEvent
from community.core.timeutil import today as _today  # per test: a run may cross midnight
from community.residents import services
from community.residents.models import REFERENCE_ALPHABET, Person, Residence
from tests.factories.residents import id_number, make_residence


def _report(world, session, **kw):
    args = dict(
        name="王小明",
        id_number=id_number(),
        phone="13812345678",
        move_in=_today(),
        channel="landlord",
    )
    args.update(kw)
    room = args.pop("room", world.room)
    reporter = args.pop("reporter", world.landlord)
    return services.report_residence(session, reporter, room, **args)


def test_report_is_pending_with_a_reference_and_an_audit_without_personal_data(world, session):
    number = id_number()
    residence = _report(world, session, id_number=number)
    assert residence.status == "pending" and not residence.late
    assert len(residence.reference) == 10 and set(residence.reference) <= set(REFERENCE_ALPHABET)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == services.REPORTED))
    assert event.object_id == residence.id
    assert event.detail["channel"] == "landlord" and event.detail["late"] is False
    assert number not in str(event.detail) and "王小明" not in str(event.detail)


def test_every_bad_field_is_named(world, session):
    with pytest.raises(RuleViolation) as caught:
        _report(
            world, session, name=" ", id_number="110105194912310021", phone="12345", move_in=None
        )
    fields = {f for f, _ in caught.value.errors}
    assert fields == {"name", "id_number", "phone", "move_in"}


def test_move_in_in_the_future_is_refused(world, session):
    with pytest.raises(RuleViolation) as caught:
        _report(world, session, move_in=_today() + timedelta(days=2))
    assert caught.value.field == "move_in"


def test_late_when_reported_after_the_deadline(world, session, app):
    app.config["REPORT_DEADLINE_DAYS"] = 3
    on_time = _report(world, session, move_in=_today() - timedelta(days=3))
    late = _report(world, session, move_in=_today() - timedelta(days=4))
    assert (on_time.late, late.late) == (False, True)


def test_id_number_is_encrypted_at_rest_and_found_by_its_hash(world, session):
    number = id_number()
    residence = _report(world, session, id_number=number.lower(), phone="13900001111")
    raw = session.execute(
        text(
            "SELECT p.id_number, r.phone FROM person p JOIN residence r ON r.person_id = p.id "
            "WHERE r.id = :id"
        ),
        {"id": residence.id},
    ).one()
    assert number not in raw.id_number and "13900001111" not in raw.phone
    assert raw.id_number.startswith("v1:") and raw.phone.startswith("v1:")
    found = session.scalar(select(Person).where(Person.id_hash == lookup_hash(number)))
    assert found.id == residence.person_id and found.id_number == number


def test_gender_and_birth_date_are_derived(world, session):
    residence = _report(world, session, id_number=id_number(date(1985, 6, 1), male=False))
    assert (residence.person.gender, residence.person.birth_date) == ("F", date(1985, 6, 1))


def test_same_person_is_one_row_and_each_report_keeps_its_own_phone(world, session):
    number = id_number()
    first = _report(world, session, id_number=number, room=world.room)
    second = _report(world, session, id_number=number, room=world.room2, phone="13700000000")
    assert first.person_id == second.person_id
    session.expire_all()
    assert session.get(Residence, first.id).phone == "13812345678"
    assert session.get(Residence, second.id).phone == "13700000000"


def test_a_self_declaration_never_rewrites_a_known_person(world, session):
    number = id_number()
    first = _report(world, session, id_number=number, room=world.room)
    _report(
        world,
        session,
        reporter=None,
        channel="self_declared",
        id_number=number,
        room=world.room2,
        name="冒名",
        phone="13700000000",
    )
    session.expire_all()
    kept = session.get(Residence, first.id)
    assert (kept.name, kept.phone) == ("王小明", "13812345678")


def test_a_second_pending_report_for_the_same_room_is_a_conflict(world, session):
    number = id_number()
    _report(world, session, id_number=number)
    with pytest.raises(Conflict) as caught:
        _report(world, session, id_number=number)
    assert "A座 101" in caught.value.message and number not in caught.value.message
    assert number[-4:] in caught.value.message


def test_police_report_is_verified_at_once_and_ends_the_old_residence(world, session):
    number = id_number()
    old = make_residence(
        session,
        room=world.room,
        reporter=world.landlord,
        number=number,
        status="verified",
        decider=world.police,
        move_in=_today() - timedelta(days=30),
    )
    new = _report(
        world, session, reporter=world.police, channel="police", id_number=number, room=world.room2
    )
    assert new.status == "verified" and new.verified_by_id == world.police.id
    session.refresh(old)
    assert old.move_out == new.move_in


def test_verify_ends_the_previous_active_residence(world, session):
    number = id_number()
    old = make_residence(
        session,
        room=world.room,
        reporter=world.landlord,
        number=number,
        status="verified",
        decider=world.police,
        move_in=_today() - timedelta(days=30),
    )
    new = _report(
        world, session, id_number=number, room=world.room2, move_in=_today() - timedelta(days=1)
    )
    services.verify_residence(session, world.police, new)
    session.refresh(old)
    assert old.move_out == _today() - timedelta(days=1) and new.status == "verified"
    active = session.scalar(
        select(func.count())
        .select_from(Residence)
        .where(
            Residence.person_id == new.person_id,
            Residence.status == "verified",
            Residence.move_out.is_(None),
        )
    )
    assert active == 1


def test_a_second_decision_is_a_conflict(world, session):
    residence = _report(world, session)
    services.verify_residence(session, world.police, residence)
    with pytest.raises(Conflict):
        services.reject_residence(session, world.police, residence, "重复")
    with pytest.raises(Conflict):
        services.verify_residence(session, world.police, residence)


def test_reject_needs_a_reason_then_the_reporter_resubmits(world, session):
    residence = _report(world, session)
    with pytest.raises(RuleViolation):
        services.reject_residence(session, world.police, residence, "  ")
    services.reject_residence(session, world.police, residence, "房间号不对")
    assert (residence.status, residence.reason) == ("rejected", "房间号不对")
    services.resubmit_residence(
        session,
        world.landlord,
        residence,
        name="王小明",
        id_number=id_number(),
        phone="13812345678",
        move_in=_today(),
    )
    assert (residence.status, residence.reason, residence.verified_by_id) == ("pending", None, None)
    with pytest.raises(Conflict):
        services.resubmit_residence(
            session,
            world.landlord,
            residence,
            name="王小明",
            id_number=id_number(),
            phone=None,
            move_in=_today(),
        )


def test_bulk_verify_skips_what_was_already_decided(world, session):
    a, b, c = (_report(world, session) for _ in range(3))
    services.reject_residence(session, world.police, b, "不清楚")
    assert services.verify_many(session, world.police, [a, b, c]) == (2, 1)
    assert (a.status, b.status, c.status) == ("verified", "rejected", "verified")


def test_move_out_checks_the_date_and_the_state(world, session):
    residence = make_residence(
        session,
        room=world.room,
        reporter=world.landlord,
        status="verified",
        decider=world.police,
        move_in=_today() - timedelta(days=10),
    )
    with pytest.raises(RuleViolation):
        services.move_out(session, world.landlord, residence, _today() - timedelta(days=11))
    services.move_out(session, world.landlord, residence, _today())
    assert residence.move_out == _today()
    with pytest.raises(Conflict):
        services.move_out(session, world.landlord, residence, _today())


def test_reveal_returns_the_values_and_audits_who_looked(world, session):
    number = id_number()
    residence = _report(world, session, id_number=number, phone="13611112222")
    assert services.reveal(session, world.police, residence) == (number, "13611112222")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == services.REVEALED))
    assert event.actor_id == world.police.id and event.object_id == residence.id
    assert number not in str(event.detail) and "13611112222" not in str(event.detail)
