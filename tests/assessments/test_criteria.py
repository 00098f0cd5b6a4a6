"""The star assessment's criteria: stars thresholds, the weights table and each provider."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from flask_babel import force_locale

from community.assessments import criteria
from community.assessments.criteria import (
    WEIGHTS,
    add_months,
    compute_all,
    last_of_month,
    stars_for,
)
from community.core.timeutil import to_utc
from tests.factories.accounts import make_area_tree
from tests.factories.hazards import make_hazard
from tests.factories.inspections import make_incident
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import make_residence

MARCH = date(2025, 3, 1)
MARCH_END = date(2025, 3, 31)


@pytest.fixture
def site(session):
    community = make_area_tree(session)[2]
    return make_site(session, area=community)


@pytest.mark.parametrize(
    "score,stars",
    [(0, 1), (59, 1), (60, 2), (69, 2), (70, 3), (79, 3), (80, 4), (89, 4), (90, 5), (100, 5)],
)
def test_stars_thresholds(score, stars):
    assert stars_for(score) == stars


def test_weights_of_criteria_and_manual_items_total_100():
    assert sum(WEIGHTS.values()) == criteria.TOTAL_POINTS == 100
    assert criteria.computed_max() + criteria.manual_max() == 100
    registered = {c.code for c in criteria.computed_criteria()} | {
        m.code for m in criteria.manual_items()
    }
    assert registered == set(WEIGHTS)


def test_a_criterion_without_a_weight_cannot_be_registered():
    with pytest.raises(KeyError):
        criteria.criterion("no_such_weight", "label")


def test_month_helpers():
    assert add_months(date(2025, 1, 31), -1) == date(2024, 12, 1)
    assert add_months(date(2025, 12, 5), 1) == date(2026, 1, 1)
    assert add_months(date(2025, 3, 1), -11) == date(2024, 4, 1)
    assert last_of_month(date(2024, 2, 10)) == date(2024, 2, 29)


# --- admission ------------------------------------------------------------------


def test_admission_full_points_when_admitted_by_month_end(session, site):
    site.admitted_on = MARCH_END
    points, stored = criteria.admission(session, site, MARCH, MARCH_END)
    detail = criteria.render_detail(stored)
    assert points == 25
    assert "2025-03-31" in detail


def test_admission_none_when_admitted_after_month_end_or_never(session, site):
    site.admitted_on = date(2025, 4, 1)
    assert criteria.admission(session, site, MARCH, MARCH_END)[0] == 0
    site.admitted_on = None
    assert criteria.admission(session, site, MARCH, MARCH_END)[0] == 0


# --- hazards --------------------------------------------------------------------


def _hz(session, site, **kw):
    kw.setdefault("created_at", datetime(2025, 3, 10, 12))
    return make_hazard(session, site=site, **kw)


def test_hazards_full_points_without_open_hazard(session, site):
    points, stored = criteria.hazards(session, site, MARCH, MARCH_END)
    detail = criteria.render_detail(stored)
    assert points == 15
    assert detail


def test_each_open_hazard_costs_five_and_high_severity_counts_double(session, site):
    _hz(session, site, severity="low")
    assert criteria.hazards(session, site, MARCH, MARCH_END)[0] == 10
    _hz(session, site, severity="high")
    points, stored = criteria.hazards(session, site, MARCH, MARCH_END)
    detail = criteria.render_detail(stored)
    assert points == 0  # 1 + 2 weighted = 15 off
    assert "2" in detail and "1" in detail


def test_hazard_points_never_go_below_zero(session, site):
    for _ in range(3):
        _hz(session, site, severity="high")
    assert criteria.hazards(session, site, MARCH, MARCH_END)[0] == 0


def test_hazard_reported_after_month_end_does_not_count(session, site):
    # Month ends are local midnights (Asia/Shanghai): 00:00 there is 16:00 UTC.
    _hz(session, site, created_at=to_utc(datetime(2025, 4, 1, 0, 0)))
    assert criteria.hazards(session, site, MARCH, MARCH_END)[0] == 15
    _hz(session, site, created_at=to_utc(datetime(2025, 3, 31, 23, 59)))
    assert criteria.hazards(session, site, MARCH, MARCH_END)[0] == 10


def test_hazard_fixed_or_closed_before_month_end_does_not_count(session, site):
    _hz(session, site, status="fixed", fixed_at=datetime(2025, 3, 20))
    _hz(
        session,
        site,
        status="closed",
        fixed_at=datetime(2025, 3, 21),
        closed_at=datetime(2025, 3, 25),
    )
    _hz(session, site, status="closed", closed_at=datetime(2025, 3, 30))
    assert criteria.hazards(session, site, MARCH, MARCH_END)[0] == 15


def test_hazard_fixed_after_month_end_was_open_at_month_end(session, site):
    _hz(session, site, status="fixed", fixed_at=datetime(2025, 4, 2))
    _hz(
        session,
        site,
        status="closed",
        fixed_at=datetime(2025, 4, 3),
        closed_at=datetime(2025, 4, 5),
    )
    assert criteria.hazards(session, site, MARCH, MARCH_END)[0] == 5


def test_reopened_hazard_counts_as_open_since_its_report(session, site):
    # Fixed once in March, reopened later: the fix did not hold.
    _hz(session, site, status="open", fixed_at=datetime(2025, 3, 15))
    assert criteria.hazards(session, site, MARCH, MARCH_END)[0] == 10


def test_hazards_of_other_sites_do_not_count(session, site):
    other = make_site(session, area=site.area)
    _hz(session, other, severity="high")
    assert criteria.hazards(session, site, MARCH, MARCH_END)[0] == 15


# --- incidents --------------------------------------------------------------------


def test_no_incident_in_twelve_months_gives_full_points(session, site):
    make_incident(session, site=site, occurred_on=date(2024, 3, 31))  # just outside
    points, stored = criteria.incidents(session, site, MARCH, MARCH_END)
    detail = criteria.render_detail(stored)
    assert points == 20
    assert "2024-04-01" in detail


@pytest.mark.parametrize("day", [date(2024, 4, 1), date(2025, 3, 31)])
def test_one_incident_at_either_window_edge_gives_five(session, site, day):
    make_incident(session, site=site, occurred_on=day)
    assert criteria.incidents(session, site, MARCH, MARCH_END)[0] == 5


def test_incident_after_month_end_does_not_count(session, site):
    make_incident(session, site=site, occurred_on=date(2025, 4, 1))
    assert criteria.incidents(session, site, MARCH, MARCH_END)[0] == 20


def test_two_incidents_give_nothing(session, site):
    make_incident(session, site=site, occurred_on=date(2024, 6, 1))
    make_incident(session, site=site, occurred_on=date(2025, 1, 1), kind="fire")
    points, stored = criteria.incidents(session, site, MARCH, MARCH_END)
    detail = criteria.render_detail(stored)
    assert points == 0
    assert "2" in detail


# --- registration rate and late reports (residents) ---------------------------------


def _residents_world(session, site):
    from community.residents import queries

    room = make_room(session, building=make_building(session, site=site), occupants=4)
    return queries.get_room(session, room.id)


def test_registration_rate_gives_the_weight_times_the_rate_at_month_end(app, session, site):
    from tests.factories.accounts import make_role_user

    police = make_role_user(session, "police", area=site.area)
    room = _residents_world(session, site)
    for day in (date(2025, 3, 2), date(2025, 3, 20)):
        make_residence(
            session,
            room=room,
            move_in=day,
            status="verified",
            decider=police,
            today=date(2025, 3, 31),
        )
    # moved in after the month: not counted at month end
    make_residence(
        session,
        room=room,
        move_in=date(2025, 4, 2),
        status="verified",
        decider=police,
        today=date(2025, 4, 3),
    )
    points, stored = criteria.registration_rate(session, site, MARCH, MARCH_END)
    assert points == 5  # 10 x 2 / 4
    with force_locale("en"):
        assert criteria.render_detail(stored) == (
            "2 of 4 residents registered at the end of the month (50%)."
        )


def test_registration_rate_full_when_nobody_is_counted(session, site):
    points, stored = criteria.registration_rate(session, site, MARCH, MARCH_END)
    assert points == 10 and criteria.render_detail(stored)


def test_late_reports_of_the_month_cost_two_points_each(app, session, site):
    room = _residents_world(session, site)
    assert criteria.late_reports(session, site, MARCH, MARCH_END)[0] == 5
    r = make_residence(session, room=room, move_in=date(2025, 3, 1), today=date(2025, 3, 10))
    r.reported_at = datetime(2025, 3, 10, 9)
    timely = make_residence(session, room=room, move_in=date(2025, 3, 9), today=date(2025, 3, 10))
    timely.reported_at = datetime(2025, 3, 10, 9)
    april = make_residence(session, room=room, move_in=date(2025, 3, 1), today=date(2025, 4, 1))
    april.reported_at = to_utc(datetime(2025, 4, 1, 0, 0))  # local times: UTC+8
    session.flush()
    points, stored = criteria.late_reports(session, site, MARCH, MARCH_END)
    assert points == 3
    with force_locale("en"):
        assert criteria.render_detail(stored).startswith("1 residence report")
    r2 = make_residence(session, room=room, move_in=date(2025, 3, 1), today=date(2025, 3, 31))
    r2.reported_at = to_utc(datetime(2025, 3, 31, 23, 59))
    r3 = make_residence(session, room=room, move_in=date(2025, 3, 1), today=date(2025, 3, 31))
    r3.reported_at = to_utc(datetime(2025, 3, 1, 0, 0))
    session.flush()
    assert criteria.late_reports(session, site, MARCH, MARCH_END)[0] == 0


# --- all together -------------------------------------------------------------------


def test_compute_all_stores_points_max_and_detail_per_code(session, site):
    site.admitted_on = date(2025, 1, 1)
    _hz(session, site)
    result = compute_all(session, site, MARCH, MARCH_END)
    assert set(result) == {"admission", "hazards", "incidents", "registration_rate", "late_reports"}
    assert result["admission"] == {"points": 25, "max": 25, "detail": result["admission"]["detail"]}
    assert result["hazards"]["points"] == 10
    assert result["incidents"]["max"] == 20
    assert all(criteria.render_detail(row["detail"]) for row in result.values())


def test_details_are_stored_untranslated_and_read_in_the_readers_language(app, session, site):
    """Computed while a Chinese reader was active, the detail still reads in English
    to an English reader, and in Chinese to a Chinese one."""
    from flask_babel import force_locale

    with force_locale("zh_CN"):
        stored = criteria.compute_all(session, site, MARCH, MARCH_END)["incidents"]["detail"]
    with force_locale("en"):
        english = criteria.render_detail(stored)
    with force_locale("zh_CN"):
        chinese = criteria.render_detail(stored)
    assert english.startswith("No incident since")
    assert chinese != english and "2024" in chinese
    assert criteria.render_detail("plain text of an older assessment") == (
        "plain text of an older assessment"
    )
