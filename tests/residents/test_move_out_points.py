"""A move-out is a report too: recorded by the landlord or the property company
after move-out + REPORT_DEADLINE_DAYS it is a late report in the points ledger
(POINTS_LATE, reason "late"), in time it earns POINTS_TIMELY; recorded by the
police it earns nothing. The compliance page counts it with the month's reports."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from community.core.errors import Conflict
from community.core.timeutil import today as _today  # per test: a run may cross midnight
from community.residents import services
from community.residents.compliance.models import PointsEntry
from tests.conftest import PASSWORD, csrf_from
from tests.factories.residents import make_residence


def _living(session, world, *, reporter=None, channel="landlord", room=None):
    """A verified residence that moved in 60 days ago, reported in time (its report
    line is written 'today - 59')."""
    return make_residence(
        session,
        room=room or world.room,
        reporter=reporter or world.landlord,
        channel=channel,
        status="verified",
        decider=world.police,
        move_in=_today() - timedelta(days=60),
        today=_today() - timedelta(days=59),
    )


def _move_out_lines(session, residence):
    return session.execute(
        select(
            PointsEntry.user_id,
            PointsEntry.organization_id,
            PointsEntry.points,
            PointsEntry.reason,
            PointsEntry.month,
        ).where(PointsEntry.residence_id == residence.id, PointsEntry.event == "move_out")
    ).all()


@pytest.mark.parametrize(("days_ago", "late"), [(3, False), (4, True), (0, False), (20, True)])
def test_landlord_move_out_is_late_after_the_deadline(session, world, days_ago, late):
    residence = _living(session, world)
    services.move_out(session, world.landlord, residence, _today() - timedelta(days=days_ago))
    assert _move_out_lines(session, residence) == [
        (
            world.landlord.id,
            None,
            -2 if late else 1,
            "late" if late else "timely",
            _today().replace(day=1),
        )
    ]


def test_company_move_out_counts_for_the_company_and_police_earn_nothing(session, world):
    by_company = _living(session, world, reporter=world.manager, channel="property_manager")
    services.move_out(session, world.manager, by_company, _today() - timedelta(days=10))
    assert _move_out_lines(session, by_company) == [
        (None, world.company.id, -2, "late", _today().replace(day=1))
    ]
    by_police = _living(session, world, room=world.room2)
    services.move_out(session, world.police, by_police, _today() - timedelta(days=10))
    assert _move_out_lines(session, by_police) == []


def test_the_ledger_month_is_the_month_the_move_out_was_recorded(session, world, app):
    residence = _living(session, world)
    recorded = _today() - timedelta(days=40)
    services.move_out(
        session, world.landlord, residence, recorded - timedelta(days=1), today=recorded
    )
    assert _move_out_lines(session, residence) == [
        (world.landlord.id, None, 1, "timely", recorded.replace(day=1))
    ]


def test_deadline_follows_report_deadline_days(session, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_DEADLINE_DAYS", 10)
    residence = _living(session, world)
    services.move_out(session, world.landlord, residence, _today() - timedelta(days=10))
    assert _move_out_lines(session, residence)[0][3] == "timely"


def test_a_refused_second_move_out_writes_no_second_line(session, world):
    residence = _living(session, world)
    services.move_out(session, world.landlord, residence, _today())
    with pytest.raises(Conflict):
        services.move_out(session, world.landlord, residence, _today())
    assert len(_move_out_lines(session, residence)) == 1
    # The move-in report's line stays beside it.
    assert (
        session.scalar(
            select(PointsEntry.reason).where(
                PointsEntry.residence_id == residence.id, PointsEntry.event == "report"
            )
        )
        == "timely"
    )


def test_late_move_out_through_the_page_counts_on_the_compliance_page(
    app, client, login, session, world
):
    residence = _living(session, world)
    session.commit()
    login(world.landlord)
    page = client.get(f"/residents/{residence.id}").get_data(as_text=True)
    resp = client.post(
        f"/residents/{residence.id}/move-out",
        data={
            "csrf_token": csrf_from(page),
            "move_out": (_today() - timedelta(days=5)).isoformat(),
        },
    )
    assert resp.status_code == 303
    police = app.test_client()
    with police.session_transaction() as sess:
        sess["locale"] = "en"
    token = csrf_from(police.get("/login").get_data(as_text=True))
    police.post(
        "/login",
        data={"username": world.police.username, "password": PASSWORD, "csrf_token": token},
    )
    html = police.get("/compliance/").get_data(as_text=True)
    row = re.search(rf'<tr id="compliance-user-{world.landlord.id}"(.*?)</tr>', html, re.S)
    assert 'data-column="late">1<' in row.group(0)


def test_late_move_outs_propose_a_yellow_card_and_count_as_late(app, session, world):
    """Move-ins reported in time, move-outs recorded late: the late lines are the
    move-outs', and reaching COMPLIANCE_YELLOW_CARD_LATE of them proposes a card;
    the area's late-report counter follows them as a rebuild would count them."""
    from community.core import rollups
    from community.residents.compliance.models import YellowCardProposal
    from community.residents.rollups import LATE, TIMELY

    threshold = app.config["COMPLIANCE_YELLOW_CARD_LATE"]
    living = [_living(session, world) for _ in range(threshold)]
    month = _today().replace(day=1)
    for n, residence in enumerate(living):
        services.move_out(session, world.landlord, residence, _today() - timedelta(days=10))
        proposed = session.scalar(
            select(YellowCardProposal).where(
                YellowCardProposal.user_id == world.landlord.id,
                YellowCardProposal.month == month,
            )
        )
        assert (proposed is not None) == (n + 1 == threshold)
    session.flush()
    counters = rollups.current(session)
    assert counters == rollups.contributions(session)
    # The move-ins were reported 59 days ago: this month holds the move-outs only.
    assert counters.get((world.site.area_id, month, LATE)) == threshold
    assert counters.get((world.site.area_id, month, TIMELY), 0) == 0
