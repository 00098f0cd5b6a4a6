"""Local dates in the residents' rules: from 00:00 to 08:00 in China the UTC date is
still yesterday. With the clock frozen at 00:30 and at 23:30 local time (Asia/Shanghai)
on Monday 2026-06-01, the first of a month, "today" is 2026-06-01 and "this month" is
June for reports, move-outs, lateness and the compliance ledger; the database keeps the
UTC instant and the pages show local time."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from community.core.timeutil import to_local
from community.residents.compliance.models import PointsEntry, YellowCardProposal
from community.residents.models import Residence
from tests.conftest import csrf_from
from tests.factories.residents import id_number, make_residence

DAY = date(2026, 6, 1)
JUNE = date(2026, 6, 1)


@pytest.fixture(params=["00:30", "23:30"])
def at(request, frozen_clock):
    """The frozen instant (naive UTC) at the param's local time on DAY."""
    return frozen_clock(f"{DAY.isoformat()} {request.param}")


def _report(client, world, move_in: date):
    token = csrf_from(client.get("/residents/new").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "room_id": world.room.id,
        "name": "王小明",
        "id_number": id_number(),
        "phone": "13812345678",
        "move_in": move_in.isoformat(),
        "hometown": "安徽",
        "employer": "",
    }
    return client.post("/residents/new", data=data)


def _ledger(session, residence, event="report"):
    return session.execute(
        select(PointsEntry.month, PointsEntry.reason, PointsEntry.points).where(
            PointsEntry.residence_id == residence.id, PointsEntry.event == event
        )
    ).all()


def test_a_report_moved_in_today_is_accepted_and_stamped_today(at, world, client, login, session):
    login(world.landlord)
    resp = _report(client, world, DAY)
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    residence = session.scalar(select(Residence).order_by(Residence.id.desc()))
    assert residence.reported_at == at  # UTC in the database
    assert residence.move_in == DAY and residence.late is False
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"{to_local(at):%Y-%m-%d %H:%M}" in page and f"{DAY.isoformat()} " in page
    assert _ledger(session, residence) == [(JUNE, "timely", 1)]


@pytest.mark.parametrize(("days_ago", "late"), [(3, False), (4, True)])
def test_a_report_on_the_deadline_day_is_timely_and_the_next_day_late(
    at, world, client, login, session, days_ago, late
):
    """REPORT_DEADLINE_DAYS is 3: moved in on May 29, reported on June 1 is in time;
    moved in on May 28 it is late, whatever the UTC date says."""
    login(world.landlord)
    resp = _report(client, world, DAY - timedelta(days=days_ago))
    assert resp.status_code == 303
    residence = session.scalar(select(Residence).order_by(Residence.id.desc()))
    assert residence.late is late
    assert _ledger(session, residence) == [(JUNE, "late", -2) if late else (JUNE, "timely", 1)]
    shown = 'data-late="1"' in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert shown is late


def _living(session, world):
    return make_residence(
        session,
        room=world.room,
        reporter=world.landlord,
        status="verified",
        decider=world.police,
        move_in=DAY - timedelta(days=30),
        today=DAY - timedelta(days=29),
    )


@pytest.mark.parametrize(("days_ago", "late"), [(0, False), (3, False), (4, True)])
def test_a_move_out_dated_today_is_accepted_and_lateness_counts_local_days(
    at, world, client, login, session, days_ago, late
):
    residence = _living(session, world)
    session.commit()
    login(world.landlord)
    token = csrf_from(client.get("/residents/").get_data(as_text=True))
    moved_out = DAY - timedelta(days=days_ago)
    resp = client.post(
        f"/residents/{residence.id}/move-out",
        data={"csrf_token": token, "move_out": moved_out.isoformat()},
    )
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    session.refresh(residence)
    assert residence.move_out == moved_out
    expected = (JUNE, "late", -2) if late else (JUNE, "timely", 1)
    assert _ledger(session, residence, "move_out") == [expected]


def test_a_move_out_tomorrow_is_still_in_the_future(at, world, client, login, session):
    residence = _living(session, world)
    session.commit()
    login(world.landlord)
    token = csrf_from(client.get("/residents/").get_data(as_text=True))
    resp = client.post(
        f"/residents/{residence.id}/move-out",
        data={"csrf_token": token, "move_out": (DAY + timedelta(days=1)).isoformat()},
    )
    assert resp.status_code == 422 and "cannot be in the future" in resp.get_data(as_text=True)


def test_the_compliance_month_is_the_local_month(at, world, client, login, session):
    """Five late reports made on June 1 local time are June's: the police's compliance
    page (this month by default) counts them and proposes June's yellow card."""
    for _ in range(5):
        make_residence(
            session, room=world.room, reporter=world.landlord, move_in=DAY - timedelta(days=10)
        )
    session.commit()
    proposal = session.scalar(select(YellowCardProposal))
    assert proposal.month == JUNE and proposal.user_id == world.landlord.id
    login(world.police)
    html = client.get("/compliance/").get_data(as_text=True)
    assert 'name="month" value="2026-06"' in html
    row = re.search(rf'<tr id="compliance-user-{world.landlord.id}"(.*?)</tr>', html, re.S)
    assert row is not None
    assert 'data-column="late">5<' in row.group(0) and 'data-proposed="1"' in row.group(0)
    may = client.get("/compliance/?month=2026-05").get_data(as_text=True)
    assert f"compliance-user-{world.landlord.id}" not in may
