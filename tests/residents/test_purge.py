"""flask purge-expired erases moved-out residents' personal data after
RESIDENT_RETENTION_DAYS and keeps their residence rows (counts stay intact)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from community.core.timeutil import today as _today  # per test: a run may cross midnight
from community.residents import services
from community.residents.models import Person, Residence
from tests.factories.residents import id_number, make_residence


def _moved_out(session, world, room, days_ago, number=None):
    residence = make_residence(
        session,
        room=room,
        reporter=world.landlord,
        status="verified",
        decider=world.police,
        number=number or id_number(),
        move_in=_today() - timedelta(days=days_ago + 30),
    )
    services.move_out(session, world.police, residence, _today() - timedelta(days=days_ago))
    return residence


def test_purge_erases_old_movers_and_keeps_their_residences(app, session, world):
    old = _moved_out(session, world, world.room, 400)
    recent = _moved_out(session, world, world.room2, 10)
    session.commit()
    result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert "moved-out residents erased (after 365 days): 1" in result.output
    session.expire_all()
    gone = session.get(Person, old.person_id)
    assert gone.id_hash.startswith("purged:") and gone.id_number == "-"
    assert session.get(Person, recent.person_id).id_number != "-"
    assert session.get(Residence, recent.id).name != ""
    assert session.scalar(select(func.count()).select_from(Residence)) == 2
    kept = session.get(Residence, old.id)
    assert (kept.name, kept.phone, kept.hometown) == ("", None, None)
    assert (kept.status, kept.channel, kept.move_out) == ("verified", "landlord", old.move_out)
    again = app.test_cli_runner().invoke(args=["purge-expired"])
    assert "erased (after 365 days): 0" in again.output


def test_a_person_living_elsewhere_keeps_their_data(session, world):
    number = id_number()
    _moved_out(session, world, world.room, 400, number=number)
    make_residence(session, room=world.room2, reporter=world.landlord, number=number)
    assert services.purge_expired_residents(session) == 0
