"""Days at the ends of the calendar (found by tests/sweeps/test_fuzz.py): a form or
filter naming 0001-01-01 or 9999-12-31 is refused or ignored, never a 500 (the time
zone shift or a week added overflowed Python's calendar)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import wtforms
from werkzeug.datastructures import MultiDict

from community.core.forms import WrittenDateField
from community.core.validators import (
    EARLIEST_DAY,
    LATEST_DAY,
    day_range_message,
    in_day_range,
    read_month,
)
from community.extensions import db
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area_tree, make_role_user


def test_the_day_range_and_the_month_reader():
    assert in_day_range(EARLIEST_DAY) and in_day_range(LATEST_DAY)
    assert in_day_range(datetime(2026, 12, 7, 23, 59))
    assert not in_day_range(date(1, 1, 1)) and not in_day_range(datetime(9999, 12, 31, 23, 59))
    assert read_month("2026-12") == date(2026, 12, 1) and read_month("2026-3") == date(2026, 3, 1)
    for text in ("0001-01", "9999-12", "2026-13", "2026-00", "2026", "", None, "2026-12-01"):
        assert read_month(text) is None, text


@pytest.fixture
def coordinator(app, login):
    with app.app_context():
        community = make_area_tree(db.session)[2]
        user = make_role_user(db.session, "coordinator", password=PASSWORD, area=community)
        db.session.commit()
        info = (user.username, community.id)
    login(info[0])
    return info


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_a_duty_at_the_ends_of_the_calendar_is_refused_with_422(client, coordinator, when):
    token = csrf_from(client.get("/duties/new").get_data(as_text=True))
    resp = client.post(
        "/duties/new",
        data={
            "csrf_token": token,
            "title": "巡逻",
            "kind": "patrol",
            "area_id": coordinator[1],
            "team_id": 0,
            "starts_at": when,
            "ends_at": when,
            "capacity": 5,
            "points": 10,
            "checkpoints": "东门",
            "repeat_weeks": 26,
        },
    )
    assert resp.status_code == 422
    assert "Give a date between 1900-01-01 and 2199-12-31." in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/duties/?day=0001-01-01",
        "/duties/?day=9999-12-31",
        "/duties/?week=9999-12-31",
        "/duties/calendar?week=0001-01-01",
        "/duties/calendar?week=9999-12-31",
        "/duties/leaderboard?month=0001-01",
        "/duties/leaderboard?month=9999-12",
    ],
)
def test_duty_filters_at_the_ends_of_the_calendar_are_ignored(client, coordinator, url):
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("query", ["date_from=0001-01-01", "date_to=9999-12-31"])
def test_audit_filters_at_the_ends_of_the_calendar_are_ignored(client, login_as, query):
    login_as("admin")
    resp = client.get(f"/audit/?{query}")
    assert resp.status_code == 200
    assert "Give a date between" in resp.get_data(as_text=True)


def test_a_written_day_at_the_ends_of_the_calendar_is_refused(app):
    """WrittenDateField (incidents, residents' move-in and move-out) reads the day, then
    refuses it outside the range with the same message."""

    class Form(wtforms.Form):
        day = WrittenDateField()

    with app.test_request_context():
        for text, ok in (("0001-01-01", False), ("9999年12月31日", False), ("2026-12-05", True)):
            form = Form(MultiDict({"day": text}))
            assert form.validate() is ok, text
            assert (form.day.data is not None) is ok, text
            if not ok:
                assert form.day.errors == [day_range_message()]
