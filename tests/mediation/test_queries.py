"""Query budgets of the mediation pages: the list, my cases, the week and the case
page cost the same number of statements whatever the number of cases, sessions
and timeline lines (N+1 would show as a difference between the two sizes); so do
the dashboard with the mediation figures and their CSV downloads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from community.accounts.models import Area, User
from community.core.timeutil import now_local
from community.extensions import db
from community.mediation import services
from community.mediation.models import MediationCase, MediationRoom
from tests.conftest import PASSWORD
from tests.factories.accounts import make_role_user
from tests.factories.mediation import accept, make_case, mediation_world


@pytest.fixture
def world(app):
    with app.app_context():
        s = db.session
        w = mediation_world(s)
        police = make_role_user(s, "police", area=w["area"], password=PASSWORD)
        w["lead"].password_hash = police.password_hash
        s.commit()
        return (
            {k: v.id for k, v in w.items()} | {"police": police.id},
            police.username,
            w["lead"].username,
        )


def _add_cases(app, ids, n, *, start_hour=9):
    with app.app_context():
        s = db.session
        area, police = s.get(Area, ids["area"]), s.get(User, ids["police"])
        lead, mediator = s.get(User, ids["lead"]), s.get(User, ids["mediator"])
        room = s.get(MediationRoom, ids["room"])
        day = now_local().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        last = None
        for i in range(n):
            case = make_case(s, area=area, opener=police, risk=("low", "high")[i % 2])
            accept(s, case, lead=lead, mediator=mediator)
            start = (
                day.replace(hour=start_hour)
                + timedelta(days=i % 5, minutes=0)
                + timedelta(hours=(i // 5) % 8)
            )
            services.book_session(
                s,
                lead,
                case,
                services.Booking(room, mediator.id, start, start + timedelta(minutes=50)),
            )
            last = case.id
        s.commit()
        return last


def _measure(client, count_queries, url):
    client.get(url)  # warm caches (templates, translations)
    with count_queries() as q:
        resp = client.get(url)
    assert resp.status_code == 200
    return q.count


@pytest.mark.parametrize("path", ["/mediation/", "/mediation/mine", "/mediation/week", "CASE"])
def test_pages_cost_the_same_at_two_sizes(app, client, login, count_queries, world, path):
    ids, _police, lead = world
    first = _add_cases(app, ids, 2, start_hour=16)
    login(lead)
    url = f"/mediation/{first}" if path == "CASE" else path
    small = _measure(client, count_queries, url)
    _add_cases(app, ids, 20, start_hour=9)
    large = _measure(client, count_queries, url)
    assert large == small, (path, small, large)
    assert small <= 30


def _conclude_all(app, ids):
    with app.app_context():
        s = db.session
        mediator = s.get(User, ids["mediator"])
        open_cases = s.scalars(
            select(MediationCase).where(
                MediationCase.team_id == ids["team"], MediationCase.status == "accepted"
            )
        ).all()
        for i, case in enumerate(open_cases):
            outcome = (
                services.Outcome("agreement", terms="付款", settled_amount=100 * i)
                if i % 2
                else services.Outcome("referred", referral="court", reason="分歧大")
            )
            services.conclude_case(s, mediator, case, outcome)
        s.commit()


@pytest.mark.parametrize(
    "path", ["/dashboard/", "/dashboard/mediation-cases.csv", "/dashboard/mediation-teams.csv"]
)
def test_dashboard_figures_cost_the_same_at_two_sizes(
    app, client, login, count_queries, world, path
):
    ids, police, _lead = world
    _add_cases(app, ids, 2, start_hour=16)
    _conclude_all(app, ids)
    login(police)
    url = f"{path}?area={ids['area']}"
    small = _measure(client, count_queries, url)
    _add_cases(app, ids, 20, start_hour=9)
    _conclude_all(app, ids)
    large = _measure(client, count_queries, url)
    assert large == small, (path, small, large)
    assert small <= 30
