"""Duty figures of the dashboard against hand-computed values. TODAY is Wednesday
2026-11-25: the eight weeks start on the Mondays 2026-10-05 .. 2026-11-23. Every
duty starts at local noon and lasts 2 hours; all lie in district D except G.

    week 11-23: A  4 places; claims approved (checked in 1.5 h), approved (no
                times: the duty's 2 h), reported, cancelled, waiting
                -> places 4, claimed 3, approved 2, hours 3.5
    week 11-16: B  2 places; no_show, rejected -> places 2, claimed 2, approved 0
                C  cancelled duty (3 places, 1 claim): left out
    week 10-05: D  5 places; approved (checked in 3.5 h) -> 5, 1, approved 1, 3.5 h
    week 09-28: E  (before the window), 10 places, approved: left out
    week 11-30: F  (after the window), 3 places, claimed: left out
    other district: G (week 11-23) 6 places, approved: left out

Fill: 11 places, 6 claimed -> 55%. Hours: 3 approved duties, 7 hours.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from community.core.figures import build_figure
from community.core.timeutil import to_utc
from community.dashboard import queries
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.duty import make_claim, make_coordinator, make_duty, make_volunteer

TODAY = date(2026, 11, 25)


def _noon(day: date) -> datetime:
    return to_utc(datetime.combine(day, datetime.min.time()).replace(hour=12))


class Data:
    def __init__(self, session):
        self.session = session
        self.district, _s, self.community = make_area_tree(session)
        self.other = make_area_tree(session)[2]
        self.coordinator = make_coordinator(session, area=self.community)
        self.police = make_role_user(session, "police", org=make_org(session, area=self.district))

    def duty(self, day: date, capacity: int, *, area=None, status="published"):
        return make_duty(
            self.session,
            area=area or self.community,
            publisher=self.coordinator,
            starts_at=_noon(day),
            hours=2,
            capacity=capacity,
            status=status,
        )

    def claim(self, task, status, hours: float | None = None):
        volunteer = make_volunteer(self.session, area=self.community)
        claim = make_claim(self.session, task=task, volunteer=volunteer, status=status)
        if hours is not None:
            claim.checked_in_at = task.starts_at
            claim.checked_out_at = task.starts_at + timedelta(hours=hours)
        self.session.flush()
        return claim


def build(session):
    data = Data(session)
    a = data.duty(date(2026, 11, 24), 4)
    data.claim(a, "approved", hours=1.5)
    data.claim(a, "approved")
    for status in ("reported", "cancelled", "waiting"):
        data.claim(a, status)
    b = data.duty(date(2026, 11, 17), 2)
    data.claim(b, "no_show")
    data.claim(b, "rejected")
    c = data.duty(date(2026, 11, 18), 3, status="cancelled")
    data.claim(c, "claimed")
    d = data.duty(date(2026, 10, 5), 5)
    data.claim(d, "approved", hours=3.5)
    data.claim(data.duty(date(2026, 10, 4), 10), "approved", hours=1)
    data.claim(data.duty(date(2026, 12, 1), 3), "claimed")
    data.claim(data.duty(date(2026, 11, 24), 6, area=data.other), "approved", hours=1)
    session.commit()
    return data


@pytest.fixture
def data(app_ctx, session):
    return build(session)


def _ctx(session, data, area=None):
    return queries.context(session, data.police, area or data.district, today=TODAY)


def test_duty_fill_per_week(session, data):
    figure = build_figure(_ctx(session, data), "duty-fill")
    assert [row[0] for row in figure.rows] == [
        (date(2026, 10, 5) + timedelta(weeks=i)).isoformat() for i in range(8)
    ]
    assert figure.rows[0][1:] == [5, 1, 20]
    assert figure.rows[6][1:] == [2, 2, 100]
    assert figure.rows[7][1:] == [4, 3, 75]
    assert all(row[1:] == [0, 0, ""] for row in figure.rows[1:6])
    assert [h.value for h in figure.headline] == ["55%", "6 / 11"]
    # Stacked bars (claimed, free): each week's total is its places.
    assert [t.text for t in figure.chart.totals if t.text != "0"] == ["5", "2", "4"]


def test_volunteer_hours_per_week(session, data):
    figure = build_figure(_ctx(session, data), "volunteer-hours")
    assert figure.rows[0][1:] == [1, 3.5]
    assert figure.rows[7][1:] == [2, 3.5]
    assert all(row[1:] == [0, 0] for row in figure.rows[1:7])
    assert [h.value for h in figure.headline] == ["7", "3"]


def test_other_area_and_empty_area(session, data):
    other = _ctx(session, data, data.other)
    assert build_figure(other, "duty-fill").rows[7][1:] == [6, 1, 17]
    assert build_figure(other, "volunteer-hours").rows[7][1:] == [1, 1.0]
    empty = make_area_tree(session)[0]
    session.commit()
    ctx = queries.context(session, data.police, empty, today=TODAY)
    assert build_figure(ctx, "duty-fill") is None
    assert build_figure(ctx, "volunteer-hours") is None


def test_one_query_per_figure_at_two_sizes(session, data, count_queries):
    def run():
        ctx = _ctx(session, data)
        with count_queries() as q:
            build_figure(ctx, "duty-fill")
            build_figure(ctx, "volunteer-hours")
        return q.count

    small = run()
    build(session)  # as much again, in a second district
    more = Data(session)
    for i in range(5):
        task = more.duty(date(2026, 11, 10) + timedelta(days=i), 3)
        more.claim(task, "approved", hours=1)
    session.commit()
    assert run() == small == 2
