"""The mediation figures against hand-computed values on a fixed data set: per month
opened, high-risk opened, concluded, agreements, rate, amount settled, median
days to conclude (an even and an odd count), follow-ups; the high-risk open
headline; the same per team and month with the high-risk cases open at each
month's end; the 调解能手 ranking per team; the drill-down to one community and
its CSV. Another district's cases are not counted."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import update

from community.core.figures import build_figure
from community.dashboard.queries import context
from community.mediation import services
from community.mediation.models import MediationCase
from tests.conftest import PASSWORD
from tests.factories.accounts import make_area, make_area_tree, make_role_user
from tests.factories.mediation import accept, make_case, mediation_world


def _set(session, case, **values):
    session.execute(update(MediationCase).where(MediationCase.id == case.id).values(**values))


def _concluded(
    session,
    world,
    police,
    accepted,
    concluded,
    *,
    agreement=False,
    risk="low",
    amount=1000,
    mediator="mediator",
    visit=True,
):
    """A case of `world` opened and accepted at `accepted`, concluded at `concluded`
    (naive UTC; 02:00 UTC is 10:00 in Shanghai) by its mediator; an agreement is
    visited now (the frozen clock) unless `visit` is False."""
    case = make_case(session, area=world["area"], opener=police, risk=risk)
    accept(session, case, lead=world["lead"], mediator=world[mediator])
    outcome = (
        services.Outcome("agreement", terms="付款", settled_amount=amount)
        if agreement
        else services.Outcome("referred", referral="court", reason="分歧大")
    )
    services.conclude_case(session, world[mediator], case, outcome)
    if agreement and visit:
        services.record_followup(
            session, world[mediator], case, performed=True, satisfied=True, note=""
        )
    _set(session, case, opened_at=accepted, accepted_at=accepted, concluded_at=concluded)
    return case


def test_monthly_figures_and_ranking(session, frozen_clock):
    frozen_clock("2026-11-10 10:00")
    world = mediation_world(session)
    police = make_role_user(session, "police", area=world["area"])
    mediator = world["mediator"]
    # November: four concluded, 4, 11, 2 and 9 days -> median (4 + 9) / 2 = 6.5.
    _concluded(
        session,
        world,
        police,
        datetime(2026, 11, 1, 2),
        datetime(2026, 11, 5, 2),
        agreement=True,
        risk="high",
    )
    _concluded(session, world, police, datetime(2026, 10, 28, 2), datetime(2026, 11, 8, 2))
    _concluded(session, world, police, datetime(2026, 11, 3, 2), datetime(2026, 11, 5, 2))
    _concluded(session, world, police, datetime(2026, 10, 30, 2), datetime(2026, 11, 8, 2))
    # October: three concluded, 12, 1 and 2 days -> median 2 (the mean would be 5).
    _concluded(session, world, police, datetime(2026, 10, 10, 2), datetime(2026, 10, 22, 2))
    _concluded(session, world, police, datetime(2026, 10, 1, 2), datetime(2026, 10, 2, 2))
    _concluded(session, world, police, datetime(2026, 10, 5, 2), datetime(2026, 10, 7, 2))
    waiting = make_case(session, area=world["area"], opener=police, risk="high")
    _set(session, waiting, opened_at=datetime(2026, 10, 20, 2))
    # Another district: never counted.
    other = mediation_world(session, area=make_area_tree(session)[2])
    make_case(session, area=other["area"], risk="high")
    session.flush()

    ctx = context(session, police, None)
    with force_locale("en"):
        figure = build_figure(ctx, "mediation-cases")
        ranking = build_figure(ctx, "mediation-mediators")
    assert "Median days to conclude" in figure.columns
    rows = {r[0]: r[1:] for r in figure.rows}
    # opened, high risk opened, concluded, agreements, rate, settled, median days, visits
    assert rows["2026-11"] == [2, 1, 4, 1, 25, 1000, 6.5, 1]
    assert rows["2026-10"] == [6, 1, 3, 0, 0, 0, 2.0, 0]
    assert rows["2026-09"] == [0, 0, 0, 0, "", 0, "", 0]
    assert len(figure.rows) == 12
    headline = {str(h.label): h.value for h in figure.headline}
    assert headline == {"Mediation agreement rate": "14%", "High-risk disputes open": "2"}

    # The period's seven: 1, 2, 2, 4, 9, 11, 12 days -> median 4 (the mean ~5.9).
    assert ranking.columns[-1] == "Median days to conclude"
    assert ranking.rows == [[world["team"].name, 1, mediator.display_name, 7, 1, 14, 1000, 4.0]]
    with force_locale("zh_Hans_CN"):
        assert "结案天数中位数" in build_figure(ctx, "mediation-cases").columns


def test_no_figure_without_cases(session, frozen_clock):
    frozen_clock("2026-11-10 10:00")
    world = mediation_world(session)
    police = make_role_user(session, "police", area=world["area"])
    ctx = context(session, police, None)
    assert build_figure(ctx, "mediation-cases") is None
    assert build_figure(ctx, "mediation-mediators") is None
    assert build_figure(ctx, "mediation-teams") is None


@pytest.fixture
def two_teams(session, frozen_clock):
    """Team A (community A) and team B (community B) of one street, seen by the
    street's police; a third team in another district.

    Team A: a high-risk case opened 2026-09-15 and still new; a case accepted
    10-28 and referred 11-08 (11 days); a high-risk agreement accepted 11-01,
    concluded 11-05 (4 days, 1000 yuan), visited now; an agreement of its second
    mediator accepted 10-20, concluded 10-23 (3 days, 500 yuan), not visited.
    Team B: an agreement accepted 10-10, concluded 10-22 (12 days, 2000 yuan),
    visited now; a high-risk case accepted 10-01, referred 10-02 (1 day) and
    closed 11-03."""
    frozen_clock("2026-11-10 10:00")
    district, street, _c = make_area_tree(session)
    worlds = {}
    for label in ("A", "B"):
        area = make_area(session, name=f"Community {label}", level="community", parent=street)
        worlds[label] = mediation_world(session, area=area)
        worlds[label]["team"].name = f"Team {label}"
    police = make_role_user(session, "police", area=street, password=PASSWORD)
    a, b = worlds["A"], worlds["B"]
    waiting = make_case(session, area=a["area"], opener=police, risk="high")
    _set(session, waiting, opened_at=datetime(2026, 9, 15, 2))
    _concluded(session, a, police, datetime(2026, 10, 28, 2), datetime(2026, 11, 8, 2))
    _concluded(
        session,
        a,
        police,
        datetime(2026, 11, 1, 2),
        datetime(2026, 11, 5, 2),
        agreement=True,
        risk="high",
    )
    _concluded(
        session,
        a,
        police,
        datetime(2026, 10, 20, 2),
        datetime(2026, 10, 23, 2),
        agreement=True,
        amount=500,
        mediator="second",
        visit=False,
    )
    _concluded(
        session,
        b,
        police,
        datetime(2026, 10, 10, 2),
        datetime(2026, 10, 22, 2),
        agreement=True,
        amount=2000,
    )
    closed = _concluded(
        session, b, police, datetime(2026, 10, 1, 2), datetime(2026, 10, 2, 2), risk="high"
    )
    _set(
        session, closed, status="closed", closed_at=datetime(2026, 11, 3, 2), closed_by_id=police.id
    )
    other = mediation_world(session, area=make_area_tree(session)[2])
    make_case(session, area=other["area"], risk="high")
    session.flush()
    return worlds, police


def test_figures_per_team_and_month(session, two_teams):
    worlds, police = two_teams
    a, b = worlds["A"], worlds["B"]
    ctx = context(session, police, None)
    with force_locale("en"):
        teams = build_figure(ctx, "mediation-teams")
        ranking = build_figure(ctx, "mediation-mediators")
    assert teams.columns[-1] == "High-risk open at month end"
    # team, month, opened, concluded, agreements, rate, settled, median days,
    # follow-ups, high-risk open at the month's end; months with nothing left out.
    assert teams.rows == [
        ["Team A", "2026-09", 1, 0, 0, "", 0, "", 0, 1],
        ["Team A", "2026-10", 2, 1, 1, 100, 500, 3.0, 0, 1],
        ["Team A", "2026-11", 1, 2, 1, 50, 1000, 7.5, 1, 2],
        ["Team B", "2026-10", 2, 2, 1, 50, 2000, 6.5, 0, 1],
        ["Team B", "2026-11", 0, 0, 0, "", 0, "", 1, 0],
    ]
    assert [entry.label for entry in teams.chart.legend] == ["Team A", "Team B"]
    # Per team: the first mediator of team A concluded two (one agreement), the
    # second one (one agreement): equal agreements, more concluded first.
    assert ranking.rows == [
        ["Team A", 1, a["mediator"].display_name, 2, 1, 50, 1000, 7.5],
        ["Team A", 2, a["second"].display_name, 1, 1, 100, 500, 3.0],
        ["Team B", 1, b["mediator"].display_name, 2, 1, 50, 2000, 6.5],
    ]
    # The area figure over both teams is the sum of theirs.
    with force_locale("en"):
        rows = {r[0]: r[1:] for r in build_figure(ctx, "mediation-cases").rows}
    assert rows["2026-10"] == [4, 1, 3, 2, 67, 2500, 3.0, 0]
    assert rows["2026-11"] == [1, 1, 2, 1, 50, 1000, 7.5, 2]


def test_drill_down_to_a_community_shows_its_team_only(session, two_teams, client, login):
    worlds, police = two_teams
    ctx = context(session, police, worlds["B"]["area"])
    with force_locale("en"):
        teams = build_figure(ctx, "mediation-teams")
    assert {r[0] for r in teams.rows} == {"Team B"}
    login(police)
    with client.session_transaction() as sess:
        sess["locale"] = "en"
    area = worlds["A"]["area"].id
    page = client.get(f"/dashboard/?area={area}").get_data(as_text=True)
    assert 'id="figure-mediation-teams"' in page
    assert f"/dashboard/mediation-teams.csv?area={area}" in page
    resp = client.get(f"/dashboard/mediation-teams.csv?area={area}")
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == ["Team", "Month"]
    assert [r[:3] for r in rows[1:]] == [
        ["Team A", "2026-09", "1"],
        ["Team A", "2026-10", "2"],
        ["Team A", "2026-11", "1"],
    ]
