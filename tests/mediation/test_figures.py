"""The mediation figures against hand-computed values on a fixed data set: per month
opened, high-risk opened, concluded, agreements, rate, amount settled, average
days to conclude, follow-ups; the high-risk open headline; the 调解能手 ranking.
Another district's cases are not counted."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from sqlalchemy import update

from community.core.figures import build_figure
from community.dashboard.queries import context
from community.mediation import services
from community.mediation.models import MediationCase
from tests.factories.accounts import make_area_tree, make_role_user
from tests.factories.mediation import accept, make_case, mediation_world


def _set(session, case, **values):
    session.execute(update(MediationCase).where(MediationCase.id == case.id).values(**values))


def test_monthly_figures_and_ranking(session, frozen_clock):
    frozen_clock("2026-11-10 10:00")
    world = mediation_world(session)
    police = make_role_user(session, "police", area=world["area"])
    lead, mediator = world["lead"], world["mediator"]
    agreed = make_case(session, area=world["area"], opener=police, risk="high")
    accept(session, agreed, lead=lead, mediator=mediator)
    services.conclude_case(
        session, mediator, agreed, services.Outcome("agreement", terms="付款", settled_amount=1000)
    )
    services.record_followup(session, mediator, agreed, performed=True, satisfied=True, note="")
    referred = make_case(session, area=world["area"], opener=police, risk="low")
    accept(session, referred, lead=lead, mediator=mediator)
    services.conclude_case(
        session, mediator, referred, services.Outcome("referred", referral="court", reason="分歧大")
    )
    waiting = make_case(session, area=world["area"], opener=police, risk="high")
    # Dates (naive UTC; 02:00 UTC is 10:00 in Shanghai).
    _set(
        session, agreed, accepted_at=datetime(2026, 11, 1, 2), concluded_at=datetime(2026, 11, 5, 2)
    )
    _set(
        session,
        referred,
        accepted_at=datetime(2026, 11, 2, 2),
        concluded_at=datetime(2026, 11, 8, 2),
    )
    _set(session, waiting, opened_at=datetime(2026, 10, 20, 2))
    # Another district: never counted.
    other = mediation_world(session, area=make_area_tree(session)[2])
    make_case(session, area=other["area"], risk="high")
    session.flush()

    ctx = context(session, police, None)
    with force_locale("en"):
        figure = build_figure(ctx, "mediation-cases")
    rows = {r[0]: r[1:] for r in figure.rows}
    assert rows["2026-11"] == [2, 1, 2, 1, 50, 1000, 5.0, 1]
    assert rows["2026-10"] == [1, 1, 0, 0, "", 0, "", 0]
    assert len(figure.rows) == 12
    headline = {str(h.label): h.value for h in figure.headline}
    assert headline == {"Mediation agreement rate": "50%", "High-risk disputes open": "2"}

    ranking = build_figure(ctx, "mediation-mediators")
    assert ranking.rows == [[mediator.display_name, world["team"].name, 2, 1, 50, 1000]]


def test_no_figure_without_cases(session, frozen_clock):
    frozen_clock("2026-11-10 10:00")
    world = mediation_world(session)
    police = make_role_user(session, "police", area=world["area"])
    ctx = context(session, police, None)
    assert build_figure(ctx, "mediation-cases") is None
    assert build_figure(ctx, "mediation-mediators") is None
