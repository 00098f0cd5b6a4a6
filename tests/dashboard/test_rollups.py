"""The counters kept on write (core.rollups, by the residents and places services)
always equal a rebuild from the base tables, whatever happened: reports, verify,
reject, move-out, a person verified elsewhere (their previous residence ends),
police reports, rooms added and recounted, a site moved to another community."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner

from community.core import rollups
from community.core.rollups import RollupMonth, contributions, current, rebuild
from community.core.timeutil import today
from community.places import services as places
from community.places.rollups import OCCUPANTS
from community.residents import services as residents
from community.residents.queries import get_room
from community.residents.rollups import ACTIVE
from tests.dashboard.conftest import build_world, months_back
from tests.factories.accounts import make_role_user
from tests.factories.residents import id_number, make_residence


def test_counters_kept_on_write_equal_a_rebuild(session):
    build_world(session)
    assert current(session) == contributions(session)
    assert current(session)  # something was counted


def test_every_write_path_keeps_counters_equal_to_a_rebuild(session):
    w = build_world(session)
    admin = make_role_user(session, "admin")
    police = w.police
    r1, r2, r3 = (get_room(session, r.id) for r in (w.r1, w.r2, w.r3))
    # A person moves from r1 to r3: verifying the new residence ends the old one.
    number = id_number()
    first = make_residence(
        session,
        room=r1,
        reporter=w.landlord,
        number=number,
        status="verified",
        decider=police,
        move_in=months_back(2) + timedelta(days=6),
        today=months_back(2) + timedelta(days=7),
    )
    make_residence(
        session,
        room=r3,
        reporter=police,
        channel="police",
        number=number,
        status="verified",
        move_in=months_back(1) + timedelta(days=3),
    )
    session.refresh(first)
    assert first.move_out == months_back(1) + timedelta(days=3)
    # Rejected and pending ones count as reports only.
    make_residence(session, room=r2, reporter=w.landlord, status="rejected", decider=police)
    # A move-out today.
    verified = make_residence(
        session, room=r2, reporter=w.landlord, status="verified", decider=police
    )
    residents.move_out(session, police, verified, today())
    # Rooms: a new one and a recount.
    places.add_room(session, admin, r1.building, number="R-new", beds=4, occupants=6)
    places.update_room(session, admin, r2, number=r2.number, beds=2, occupants=4)
    assert current(session) == contributions(session)
    # The site of C2 moves to C1: its counters follow it.
    site = w.site_b
    places.update_site(
        session,
        admin,
        site,
        name=site.name,
        kind=site.kind,
        area_id=w.c1.id,
        address=site.address,
        association_id=None,
        company_id=None,
        enterprise_id=None,
        landlord_username=None,
    )
    session.flush()
    assert site.area_id == w.c1.id
    kept = current(session)
    assert kept == contributions(session)
    assert not any(area == w.c2.id for area, _m, _k in kept)


def test_rebuild_is_safe_to_run_twice(session):
    build_world(session)
    kept = current(session)
    rebuild(session)
    assert current(session) == kept
    rebuild(session)
    assert current(session) == kept


def test_rebuild_repairs_lost_counters(session):
    w = build_world(session)
    kept = current(session)
    session.query(RollupMonth).delete()
    rollups.bump(session, w.c1.id, months_back(0), ACTIVE, 99)
    rebuild(session)
    assert current(session) == kept


def test_counters_hold_the_hand_computed_flows(session):
    w = build_world(session)
    kept = current(session)
    total = rollups.TOTAL
    assert kept[(w.c1.id, total, OCCUPANTS)] == 4
    assert kept[(w.c1.id, months_back(2), ACTIVE)] == 2  # res1 and res2 moved in
    assert kept.get((w.c1.id, months_back(1), ACTIVE), 0) == 0  # res2 left, res4 came
    assert (w.c2.id, total, OCCUPANTS) not in kept  # head count 0


def test_rebuild_rollups_command(app, session):
    build_world(session)
    kept = current(session)
    result = CliRunner().invoke(app.cli, ["rebuild-rollups"], obj=None)
    # The command runs in its own app context on the same test connection.
    assert result.exit_code == 0, result.output
    assert "counters rebuilt" in result.output
    assert current(session) == kept
