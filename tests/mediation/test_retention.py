"""Parties' personal data of closed cases are erased MEDIATION_PARTY_RETENTION_DAYS
after the local day the case closed (by the purge job, `flask purge-expired`): at
the edges in local time (Asia/Shanghai, UTC+8), the case and its figures kept,
open and concluded cases untouched, the searches no longer finding the parties."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from community.core.figures import build_figure
from community.core.models import AuditEvent
from community.dashboard.queries import context
from community.mediation import queries, services
from community.mediation.models import CaseParty, CasePartyKey, MediationCase
from tests.factories.accounts import make_role_user
from tests.factories.mediation import accept, make_case, mediation_world, party


@pytest.fixture
def world(app, session, frozen_clock, monkeypatch):
    monkeypatch.setitem(app.config, "MEDIATION_PARTY_RETENTION_DAYS", 30)
    frozen_clock("2026-10-20 10:00")
    w = mediation_world(session)
    w["police"] = make_role_user(session, "police", area=w["area"])
    return w


def _closed(session, w, closed_at_utc: datetime, phone: str) -> MediationCase:
    """A case with a party reached at `phone` (ID card), concluded by a referral and
    closed at `closed_at_utc` (naive UTC)."""
    case = make_case(
        session,
        area=w["area"],
        opener=w["police"],
        parties=[
            party("王五", phone, id_number="11010519491231002X", organization="某公司"),
            party("赵六", "13800000009", "respondent"),
        ],
    )
    accept(session, case, lead=w["lead"], mediator=w["mediator"])
    services.conclude_case(
        session, w["mediator"], case, services.Outcome("referred", referral="court", reason="x")
    )
    services.close_case(session, w["mediator"], case)
    session.execute(
        update(MediationCase).where(MediationCase.id == case.id).values(closed_at=closed_at_utc)
    )
    return case


def _erased(session, case) -> bool:
    session.expire_all()
    rows = session.scalars(select(CaseParty).where(CaseParty.case_id == case.id)).all()
    return all(
        (p.name, p.phone, p.id_number, p.id_hash, p.organization) == ("-", "-", None, None, None)
        and p.phone_hash.startswith("purged:")
        for p in rows
    )


def test_parties_are_erased_the_day_after_the_retention_ends_in_local_time(
    session, world, frozen_clock
):
    # Closed 2026-11-01 00:30 in Shanghai (2026-10-31 16:30 UTC): local day 11-01.
    late = _closed(session, world, datetime(2026, 10, 31, 16, 30), "13900000101")
    # Closed 2026-10-31 23:30 in Shanghai (15:30 UTC the same UTC day): local 10-31.
    early = _closed(session, world, datetime(2026, 10, 31, 15, 30), "13900000102")
    still_open = make_case(session, area=world["area"], opener=world["police"])
    session.execute(
        update(MediationCase)
        .where(MediationCase.id == still_open.id)
        .values(opened_at=datetime(2025, 1, 1))
    )
    session.flush()

    frozen_clock("2026-11-30 23:59")  # 30 days after 10-31: both kept
    assert services.purge_expired_parties(session) == 0
    frozen_clock("2026-12-01 00:00")  # day 10-31 + 31: the one closed on 10-31 goes
    assert services.purge_expired_parties(session) == 1
    assert _erased(session, early) and not _erased(session, late)
    frozen_clock("2026-12-01 23:59")
    assert services.purge_expired_parties(session) == 0
    frozen_clock("2026-12-02 00:00")
    assert services.purge_expired_parties(session) == 1
    assert _erased(session, late)
    # Nothing left to do; the open case keeps its parties, whatever its age.
    assert services.purge_expired_parties(session) == 0
    assert not _erased(session, still_open)
    assert (
        session.scalar(
            select(func.count()).select_from(CasePartyKey).where(CasePartyKey.case_id == early.id)
        )
        == 0
    )
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "mediation.parties_purged")
    ).all()
    assert len(events) == 2


def test_erased_cases_keep_their_figures_and_leave_the_searches(session, world, frozen_clock):
    case = _closed(session, world, datetime(2026, 10, 25, 2), "13900000103")
    session.flush()
    frozen_clock("2026-11-10 10:00")
    ctx = context(session, world["police"], None)
    with force_locale("en"):
        before = [build_figure(ctx, s).rows for s in ("mediation-cases", "mediation-teams")]
    assert queries.list_cases(session, world["police"], q="13900000103", status="all").total == 1
    assert queries.list_cases(session, world["police"], q="王五", status="all").total == 1

    frozen_clock("2026-11-25 10:00")  # closed 10-25 + 30 days, and one
    assert services.purge_expired_parties(session) == 1
    session.expire_all()
    kept = session.get(MediationCase, case.id)
    assert (kept.status, kept.outcome, kept.amount) == ("closed", "referred", 3000)
    frozen_clock("2026-11-10 10:00")
    ctx = context(session, world["police"], None)
    with force_locale("en"):
        after = [build_figure(ctx, s).rows for s in ("mediation-cases", "mediation-teams")]
    assert after == before
    assert queries.list_cases(session, world["police"], q="13900000103", status="all").total == 0
    assert queries.list_cases(session, world["police"], q="王五", status="all").total == 0


def test_purge_expired_reports_the_mediation_cases(app, session, world, frozen_clock):
    _closed(session, world, datetime(2026, 1, 5, 2), "13900000104")
    session.commit()
    frozen_clock("2026-11-10 10:00")
    result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert "mediation cases whose parties were erased (closed more than 30 days ago): 1" in (
        result.output
    )
