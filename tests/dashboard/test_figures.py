"""The dashboard's figures against the hand-computed values of the world in
conftest.py, as seen by the police of district D (C3 lies outside).

Registration now: registered residents res1, res4 (C1) and res5 (C2) = 3; head
counts 3 + 1 + 0 = 4; rate 3 / max(4, 3) = 75%. C1: 2 / 4 = 50%; C2: 1 / max(0, 1)
= 100%. Trend: end of M-2 res1 + res2 = 2 -> 50%; end of M-1 res2 left, res4 came
-> 2 -> 50%; this month 3 -> 75%; earlier months 0%.
Reports (landlords' ledger): M-2 1 timely; M-1 1 timely (res4) + 1 late (res2);
this month 2 timely (res3 pending, res5).
"""

from __future__ import annotations

from community.core.figures import build_figure, build_figures
from community.core.reviews import review_kinds
from community.dashboard import queries
from tests.dashboard.conftest import months_back


def _ctx(session, user, area):
    return queries.context(session, user, area)


def test_registration_rate_and_trend_for_the_district(session, world):
    figure = build_figure(_ctx(session, world.police, world.d), "registration")
    assert [h.value for h in figure.headline] == ["75%", "3", "4"]
    by_month = {row[0]: row[1:] for row in figure.rows}
    assert len(figure.rows) == 12
    assert by_month[months_back(2).strftime("%Y-%m")] == [2, 4, 50]
    assert by_month[months_back(1).strftime("%Y-%m")] == [2, 4, 50]
    assert by_month[months_back(0).strftime("%Y-%m")] == [3, 4, 75]
    assert by_month[months_back(3).strftime("%Y-%m")] == [0, 4, 0]
    assert [p.value for p in figure.chart.points][-3:] == [50, 50, 75]


def test_rate_per_community_in_the_drill_down(session, world):
    rows = {
        r.area.name: r for r in queries.children(queries.context(session, world.police, world.s))
    }
    assert set(rows) == {"C1-community", "C2-community"}
    assert (rows["C1-community"].rate.percent, rows["C1-community"].rate.active) == (50, 2)
    assert (rows["C2-community"].rate.percent, rows["C2-community"].rate.active) == (100, 1)
    assert (rows["C1-community"].sites, rows["C1-community"].admitted) == (1, 1)
    assert (rows["C2-community"].sites, rows["C2-community"].admitted) == (1, 0)


def test_timely_and_late_reports_per_month(session, world):
    figure = build_figure(_ctx(session, world.police, world.d), "reports")
    by_month = {row[0]: row[1:] for row in figure.rows}
    assert by_month[months_back(2).strftime("%Y-%m")] == [1, 0, 0]
    assert by_month[months_back(1).strftime("%Y-%m")] == [1, 1, 50]
    assert by_month[months_back(0).strftime("%Y-%m")] == [2, 0, 0]
    assert by_month[months_back(3).strftime("%Y-%m")] == [0, 0, ""]
    assert figure.headline[0].value == "0"


def test_stars_admission_and_shuangwu(session, world):
    ctx = _ctx(session, world.police, world.d)
    stars = build_figure(ctx, "stars")
    assert [row[1] for row in stars.rows] == [1, 0, 1, 0, 0, 0]  # 5, 4, 3, 2, 1, unrated
    assert stars.headline[0].value == "1 / 2"
    admission = build_figure(ctx, "admission")
    assert [row[1] for row in admission.rows] == [2, 1, 1, 1]  # sites, admitted, not, 双无
    assert [h.value for h in admission.headline] == ["1 / 2", "1"]


def test_open_hazards_by_age(session, world):
    figure = build_figure(_ctx(session, world.police, world.d), "hazards")
    assert [row[1] for row in figure.rows] == [1, 0, 1, 1]  # 0-7, 8-30, 31-90, 91+
    assert [h.value for h in figure.headline] == ["3", "2"]
    assert figure.headline[1].warn


def test_a_community_counts_only_its_own(session, world):
    ctx = _ctx(session, world.c1_police, world.c1)
    assert build_figure(ctx, "registration").headline[0].value == "50%"
    assert [row[1] for row in build_figure(ctx, "hazards").rows] == [0, 0, 0, 1]
    assert build_figure(ctx, "admission").rows[0][1] == 1


def test_other_district_is_apart(session, world):
    ctx = _ctx(session, world.police, world.d2)
    registration = build_figure(ctx, "registration")
    assert registration.headline[0].value == "20%"  # 1 resident / 5 known occupants


def _waiting(figure) -> dict[str, int]:
    names = {str(k.label): k.name for k in review_kinds()}
    return {names[label]: n for label, n in figure.rows}


def test_pending_reviews_per_kind_in_the_subtree(session, world):
    """The police's queue: res3 waits (C1), the fixed hazard of site A waits to be
    closed (C1), sites A (C1) and B (C2) were never inspected: both due."""
    figure = build_figure(_ctx(session, world.police, world.d), "reviews")
    assert _waiting(figure) == {
        "residence": 1,
        "assessment": 0,
        "hazard": 1,
        "inspection": 2,
        "association": 0,
        "yellow_card": 0,
        "outreach_request": 0,
    }
    assert figure.headline[0].value == "4" and figure.headline[0].warn
    c2 = build_figure(_ctx(session, world.police, world.c2), "reviews")
    assert {k: n for k, n in _waiting(c2).items() if n} == {"inspection": 1}
    assert c2.headline[0].value == "1"


def test_pending_reviews_left_out_without_a_queue(session, world):
    slugs = [f.slug for f in build_figures(_ctx(session, world.police, world.d))]
    assert "reviews" in slugs
    # (other packages, e.g. duty, may add their figures between or after these)
    ours = ["registration", "reports", "stars", "admission", "hazards"]
    assert [s for s in slugs if s in ours] == ours
    assert build_figure(_ctx(session, world.landlord, world.c1), "reviews") is None


def test_every_feature_registers_its_figures_in_the_dashboard_order():
    """The slugs name the CSV downloads (/dashboard/<figure>.csv): registered by
    places, hazards, residents, reviews and duty, shown in this order."""
    from community.core.figures import figure_slugs

    assert figure_slugs() == [
        "registration",
        "reports",
        "stars",
        "admission",
        "hazards",
        "reviews",
        "duty-fill",
        "volunteer-hours",
        "outreach-coverage",
        "mediation-cases",
        "mediation-teams",
        "mediation-mediators",
    ]
