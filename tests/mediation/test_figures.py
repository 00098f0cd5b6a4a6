"""The mediation figures against hand-computed values on a fixed data set: per month
opened, high-risk opened, concluded, agreements, rate, amount settled, median
days to conclude (an even and an odd count), follow-ups; the high-risk open
headline; the 调解能手 ranking.
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


def _concluded(session, world, police, accepted, concluded, *, agreement=False, risk="low"):
    """A case of `world` opened and accepted at `accepted`, concluded at `concluded`
    (naive UTC; 02:00 UTC is 10:00 in Shanghai) by its mediator."""
    case = make_case(session, area=world["area"], opener=police, risk=risk)
    accept(session, case, lead=world["lead"], mediator=world["mediator"])
    outcome = (
        services.Outcome("agreement", terms="付款", settled_amount=1000)
        if agreement
        else services.Outcome("referred", referral="court", reason="分歧大")
    )
    services.conclude_case(session, world["mediator"], case, outcome)
    if agreement:
        services.record_followup(
            session, world["mediator"], case, performed=True, satisfied=True, note=""
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
    assert ranking.rows == [[mediator.display_name, world["team"].name, 7, 1, 14, 1000, 4.0]]
    with force_locale("zh_Hans_CN"):
        assert "结案天数中位数" in build_figure(ctx, "mediation-cases").columns


def test_no_figure_without_cases(session, frozen_clock):
    frozen_clock("2026-11-10 10:00")
    world = mediation_world(session)
    police = make_role_user(session, "police", area=world["area"])
    ctx = context(session, police, None)
    assert build_figure(ctx, "mediation-cases") is None
    assert build_figure(ctx, "mediation-mediators") is None
