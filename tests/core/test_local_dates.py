"""Every "today" and every month boundary is the local date of COMMUNITY_TIMEZONE
(Asia/Shanghai in the tests), not the UTC date: from 00:00 to 08:00 in China the UTC
date is still yesterday. The clock is frozen (tests/conftest.py frozen_clock) at 00:30
and at 23:30 local time on Monday 2026-06-01, the first day of a month and of a week,
over the helpers, due inspections, the assessment month and duties (the residents'
reports, move-outs and compliance are in tests/residents/test_local_dates.py)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import literal, select

from community import create_app
from community.config import TestConfig
from community.core import timeutil
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.duty import make_claim, make_coordinator, make_duty, make_volunteer
from tests.factories.places import make_site

DAY = date(2026, 6, 1)  # a Monday, the first of June


@pytest.fixture(params=["00:30", "23:30"])
def at(request, frozen_clock):
    """The frozen instant (naive UTC) at the param's local time on DAY."""
    return frozen_clock(f"{DAY.isoformat()} {request.param}")


# --- the helpers ------------------------------------------------------------------


def test_today_is_the_local_date_and_utcnow_stays_utc(app_ctx, frozen_clock):
    assert frozen_clock("2026-06-01 00:30") == datetime(2026, 5, 31, 16, 30)
    assert timeutil.utcnow() == datetime(2026, 5, 31, 16, 30)
    assert timeutil.now_local() == datetime(2026, 6, 1, 0, 30)
    assert timeutil.today() == DAY
    assert timeutil.local_date(datetime(2026, 5, 31, 16, 30)) == DAY
    assert timeutil.local_date(datetime(2026, 5, 31, 15, 59)) == date(2026, 5, 31)
    assert timeutil.day_bounds(DAY) == (datetime(2026, 5, 31, 16), datetime(2026, 6, 1, 16))
    assert timeutil.month_bounds(date(2026, 6, 17)) == (
        datetime(2026, 5, 31, 16),
        datetime(2026, 6, 30, 16),
    )
    frozen_clock("2026-06-01 23:30")
    assert timeutil.today() == DAY and timeutil.utcnow() == datetime(2026, 6, 1, 15, 30)
    frozen_clock("2026-06-01 16:30", utc=True)
    assert timeutil.today() == date(2026, 6, 2)


def test_the_zone_is_the_setting(frozen_clock):
    app = create_app(type("Cfg", (TestConfig,), {"BABEL_DEFAULT_TIMEZONE": "UTC"}))
    frozen_clock("2026-06-01 00:30")
    with app.app_context():
        assert timeutil.today() == date(2026, 5, 31)
    with pytest.raises(SystemExit, match="COMMUNITY_TIMEZONE"):
        create_app(type("Cfg", (TestConfig,), {"BABEL_DEFAULT_TIMEZONE": "Mars/Olympus"}))


# --- due inspections --------------------------------------------------------------


def test_an_inspection_due_today_is_due_today(at, client, login, session):
    """A 5-star site inspected 90 days before June 1 is due on June 1: the due list
    says so and the police's review queue holds it."""
    _, street, community = make_area_tree(session)
    make_site(
        session,
        area=community,
        name="到期公寓",
        admitted_on=date(2020, 1, 1),
        stars=5,
        last_inspected_on=DAY - timedelta(days=90),
    )
    police = make_role_user(
        session, "police", password=PASSWORD, org=make_org(session, area=street)
    )
    session.commit()
    login(police.username)
    page = client.get("/inspections/due").get_data(as_text=True)
    row = page[page.index("到期公寓") :]
    row = row[: row.index("</tr>")]
    assert "due today" in row and "due in" not in row
    assert "到期公寓" in client.get("/reviews/").get_data(as_text=True)


def test_a_site_never_inspected_is_due_since_its_local_registration_day(at, client, login, session):
    """A site registered at 00:30 on June 1 (still May 31 in UTC) waits in the police's
    queue "since 2026-06-01", the day of its registration in the community."""
    _, street, community = make_area_tree(session)
    site = make_site(session, area=community, name="新登记公寓")
    police = make_role_user(
        session, "police", password=PASSWORD, org=make_org(session, area=street)
    )
    session.commit()
    assert site.created_at == at
    assert session.scalar(select(timeutil.local_day(literal(at)))) == DAY
    login(police.username)
    queue = client.get("/reviews/?kind=inspection").get_data(as_text=True)
    row = queue[queue.index("新登记公寓") :]
    assert "since 2026-06-01" in row[: row.index("</article>")]


# --- the assessment month ---------------------------------------------------------


@pytest.fixture
def landlord_site(client, login, session):
    _, _street, community = make_area_tree(session)
    landlord = make_role_user(session, "landlord", password=PASSWORD, area=community)
    site = make_site(session, area=community, landlord=landlord, name="幸福公寓")
    session.commit()
    login(landlord.username)
    return site


def test_the_assessment_month_is_the_local_month(at, client, landlord_site):
    """On June 1 the last complete month is May (offered by default) and June may be
    started (assessed up to today); July is in the future."""
    page = client.get(f"/sites/{landlord_site.id}/assessments").get_data(as_text=True)
    assert 'value="2026-05"' in page
    token = csrf_from(page)
    july = client.post(
        f"/sites/{landlord_site.id}/assessments", data={"month": "2026-07", "csrf_token": token}
    )
    assert july.status_code == 422
    june = client.post(
        f"/sites/{landlord_site.id}/assessments", data={"month": "2026-06", "csrf_token": token}
    )
    assert june.status_code == 303
    assert "2026-06" in client.get(june.headers["Location"]).get_data(as_text=True)


# --- duties -----------------------------------------------------------------------


def test_the_dashboards_duty_week_starts_on_the_local_monday(at, client, login, session):
    """A duty at 09:00 on Monday June 1 is in this week's row of the duty figure."""
    district, _street, community = make_area_tree(session)
    coordinator = make_coordinator(session, area=community)
    task = make_duty(
        session,
        area=community,
        publisher=coordinator,
        starts_at=timeutil.to_utc(datetime(2026, 6, 1, 9)),
        capacity=4,
    )
    make_claim(session, task=task, volunteer=make_volunteer(session, area=community))
    police = make_role_user(
        session, "police", password=PASSWORD, org=make_org(session, area=district)
    )
    session.commit()
    login(police.username)
    resp = client.get(f"/dashboard/duty-fill.csv?area={district.id}")
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[-1][:3] == ["2026-06-01", "4", "1"]


def test_a_duty_belongs_to_its_local_day_for_the_daily_cap(at, client, login, session):
    """DUTY_DAILY_CAP is 2: two duties on June 2 fill the day; one at 00:15 on June 3
    (still June 2 in UTC) is another day and may be claimed."""
    _, _street, community = make_area_tree(session)
    coordinator = make_coordinator(session, area=community)

    def duty(hour, minute=0, day=2):
        start = timeutil.to_utc(datetime(2026, 6, day, hour, minute))
        return make_duty(
            session, area=community, publisher=coordinator, starts_at=start, hours=1
        ).id

    first, second, third = duty(9), duty(12), duty(15)
    after_midnight = duty(0, 15, day=3)
    volunteer = make_volunteer(session, area=community, password=PASSWORD)
    session.commit()
    login(volunteer.username)
    token = csrf_from(client.get("/duties/").get_data(as_text=True))
    for task_id in (first, second):
        assert (
            client.post(f"/duties/{task_id}/claim", data={"csrf_token": token}).status_code == 303
        )
    refused = client.post(f"/duties/{third}/claim", data={"csrf_token": token})
    assert refused.status_code == 409
    assert (
        client.post(f"/duties/{after_midnight}/claim", data={"csrf_token": token}).status_code
        == 303
    )
    june_3 = client.get("/duties/?day=2026-06-03").get_data(as_text=True)
    assert f'id="duty-card-{after_midnight}"' in june_3 and f'id="duty-card-{first}"' not in june_3
    june_2 = client.get("/duties/?day=2026-06-02").get_data(as_text=True)
    assert f'id="duty-card-{first}"' in june_2 and f'id="duty-card-{after_midnight}"' not in june_2
