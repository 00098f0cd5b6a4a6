"""The incident form's date is typed (no date picker): it reads the dates people
write (2026/12/05, 2026年12月5日, ...; core.validators.read_date, the import's
reader too) and says which forms it reads when it cannot."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from community.core.timeutil import today
from community.inspections.models import Incident
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area_tree, make_role_user
from tests.factories.places import make_site


def _post(client, site_id, occurred_on):
    data = {
        "csrf_token": csrf_from(client.get("/").get_data(as_text=True)),
        "kind": "fire",
        "occurred_on": occurred_on,
        "note": "厨房起火，已扑灭",
    }
    return client.post(f"/sites/{site_id}/incidents", data=data)


def test_an_incident_date_reads_the_forms_people_write(client, login, session):
    _, _, community = make_area_tree(session)
    site = make_site(
        session, area=community, created_at=datetime.combine(today(), time()) - timedelta(days=400)
    )
    police = make_role_user(session, "police", password=PASSWORD, area=community)
    session.commit()
    login(police.username)
    resp = _post(client, site.id, "上周五")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "This date cannot be read. Write it like 2026-12-05, 2026/12/05" in body
    assert "Enter the date (YYYY-MM-DD)." not in body
    day = today() - timedelta(days=3)
    resp = _post(client, site.id, f"{day.year}年{day.month}月{day.day}日")
    assert resp.status_code == 303
    assert session.scalar(select(Incident.occurred_on).where(Incident.site_id == site.id)) == day
