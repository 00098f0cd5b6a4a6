"""A row imported from a spreadsheet is a report like the form's: the same points
line (+1 timely, -2 late), the same monthly timely/late counters, the same yellow
card proposal at the threshold — one rule (compliance.services.record_reports) for both
channels — and the move-out of an imported resident earns what the move-out of a
reported one earns."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from community.core import rollups as core_rollups
from community.core.timeutil import today as _today  # per test: a run may cross midnight
from community.residents import services
from community.residents.compliance.models import PointsEntry, YellowCardProposal
from community.residents.imports.services import import_file
from community.residents.models import Residence
from tests.factories.accounts import make_org, make_role_user
from tests.factories.residents import id_number, make_residence
from tests.residents.test_imports import csv_bytes


@pytest.fixture(autouse=True)
def _english(app_ctx):
    with force_locale("en"):
        yield


def _reporter(world, who):
    return world.landlord if who == "landlord" else world.manager


def _form(session, world, who, ages):
    """Reports through the form's service, one per move-in age (days ago)."""
    for days in ages:
        make_residence(
            session,
            room=world.room,
            reporter=_reporter(world, who),
            channel=who,
            move_in=_today() - timedelta(days=days),
        )


def _import(session, world, who, ages):
    rows = [
        [world.site.id, "A座", "101", "张三", id_number(), "13812345678",
         (_today() - timedelta(days=days)).isoformat(), "", ""]
        for days in ages
    ]  # fmt: skip
    result = import_file(session, _reporter(world, who), csv_bytes(rows))
    assert result.imported == len(ages), result.errors


def _ledger(session):
    """What the compliance page is computed from: the points lines (by target),
    the area's counters of the month and the yellow card proposals."""
    lines = sorted(
        session.execute(
            select(
                PointsEntry.user_id,
                PointsEntry.organization_id,
                PointsEntry.event,
                PointsEntry.month,
                PointsEntry.points,
                PointsEntry.reason,
            )
        ).all()
    )
    counters = {k: v for k, v in core_rollups.current(session).items() if k[2].startswith("rep")}
    proposals = session.execute(
        select(YellowCardProposal.user_id, YellowCardProposal.organization_id)
    ).all()
    return lines, counters, proposals


@pytest.mark.parametrize("who", ["landlord", "property_manager"])
@pytest.mark.parametrize("channel", [_form, _import])
def test_an_imported_report_earns_what_the_form_earns(session, world, who, channel):
    # One timely report (moved in yesterday) and four late ones (ten days ago):
    # below the yellow card threshold; the fifth late report of the month reaches it.
    channel(session, world, who, [1, 10, 10, 10, 10])
    assert _ledger(session)[2] == []
    channel(session, world, who, [10])
    lines, counters, proposals = _ledger(session)
    month = _today().replace(day=1)
    target = (world.landlord.id, None) if who == "landlord" else (None, world.company.id)
    assert lines == sorted(
        [(*target, "report", month, 1, "timely")] + [(*target, "report", month, -2, "late")] * 5
    )
    area = world.site.area_id
    assert counters == {(area, month, "reports.timely"): 1, (area, month, "reports.late"): 5}
    assert proposals == [target]
    # Each line belongs to its own residence (one per report).
    ids = session.scalars(select(PointsEntry.residence_id)).all()
    assert sorted(ids) == sorted(session.scalars(select(Residence.id)).all())


def test_an_enterprise_import_earns_nothing_like_the_police(session, world):
    enterprise = make_org(session, kind="enterprise", area=world.community)
    world.site.enterprise_id = enterprise.id
    hr = make_role_user(session, "enterprise", org=enterprise)
    session.flush()
    rows = [[world.site.id, "A座", "101", "张三", id_number(), "", _today().isoformat(), "", ""]]
    assert import_file(session, hr, csv_bytes(rows)).imported == 1
    assert import_file(session, world.police, csv_bytes(rows)).already == 1
    assert _ledger(session) == ([], {}, [])


@pytest.mark.parametrize("channel", [_form, _import])
def test_an_imported_resident_moving_out_earns_what_a_reported_one_earns(session, world, channel):
    channel(session, world, "landlord", [60])
    residence = session.scalar(select(Residence))
    services.verify_residence(session, world.police, residence)
    residence = session.get(Residence, residence.id)
    services.move_out(session, world.landlord, residence, _today() - timedelta(days=10))
    lines = session.execute(
        select(PointsEntry.user_id, PointsEntry.event, PointsEntry.points, PointsEntry.reason)
        .where(PointsEntry.residence_id == residence.id)
        .order_by(PointsEntry.event)
    ).all()
    assert lines == [
        (world.landlord.id, "move_out", -2, "late"),
        (world.landlord.id, "report", -2, "late"),
    ]


def test_police_see_an_imported_landlords_late_reports_and_proposed_card(
    session, world, client, login
):
    _import(session, world, "landlord", [1] + [10] * 5)
    session.commit()
    login(world.police)
    html = client.get("/compliance/").get_data(as_text=True)
    row = re.search(rf'<tr id="compliance-user-{world.landlord.id}"(.*?)</tr>', html, re.S)
    assert row, "the importing landlord is not on the compliance page"
    assert 'data-column="timely">1<' in row.group(0) and 'data-column="late">5<' in row.group(0)
    assert 'data-column="balance">-9<' in row.group(0) and 'data-proposed="1"' in row.group(0)
