"""The mediation rules on the services: intake, acceptance with the conflict check,
sessions within opening hours and never double-booked, outcome, follow-up, closing,
deadlines in local time, and the search through keyed hashes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text

from community.core.errors import Conflict, NotPermitted, RuleViolation
from community.core.models import AuditEvent, Notification
from community.mediation import queries, services
from community.mediation.models import MediationCase, MediationSession
from tests.factories.accounts import make_role_user
from tests.factories.mediation import (
    accept,
    make_case,
    make_member,
    mediation_world,
    party,
)
from tests.factories.places import make_site


@pytest.fixture
def world(session):
    return mediation_world(session)


def _errors(exc) -> dict:
    return dict(exc.value.errors)


def test_open_case_encrypts_parties_and_tells_the_lead(session, world):
    case = make_case(session, area=world["area"])
    assert case.number.startswith("TJ") and case.status == "new"
    assert case.team_id == world["team"].id
    stored = session.execute(
        text("SELECT phone, name FROM case_party WHERE case_id = :id"), {"id": case.id}
    ).all()
    assert len(stored) == 2
    assert all(not phone.startswith("138") and "张" not in name for phone, name in stored)
    notice = session.scalar(select(Notification).where(Notification.user_id == world["lead"].id))
    assert notice is not None and notice.kind == "mediation-opened"


def test_a_case_needs_two_parties_and_nothing_is_half_saved(session, world):
    before = session.scalar(select(func.count(MediationCase.id)))
    with pytest.raises(RuleViolation) as exc:
        make_case(session, area=world["area"], parties=[party()])
    assert "parties" in _errors(exc)
    with pytest.raises(RuleViolation) as exc:
        make_case(
            session,
            area=world["area"],
            parties=[party("甲", "13800000001"), party("乙", "13800000002")],
        )
    assert "two parties" not in _errors(exc)["parties"]  # both applicants
    assert session.scalar(select(func.count(MediationCase.id))) == before


def test_bad_phone_and_id_number_blame_their_row(session, world):
    with pytest.raises(RuleViolation) as exc:
        make_case(
            session,
            area=world["area"],
            parties=[
                party("张三", "12345"),
                party("李四", "13800000002", "respondent", id_number="110101199003071234"),
            ],
        )
    errors = _errors(exc)
    assert "parties-0-phone" in errors and "parties-1-id_number" in errors


def test_a_landlord_opens_only_at_their_own_site(session, world):
    landlord = make_role_user(session, "landlord", area=world["area"])
    own = make_site(session, area=world["area"], landlord=landlord)
    other = make_site(session, area=world["area"])
    case = make_case(session, opener=landlord, area=world["area"], site=own)
    assert case.site_id == own.id
    with pytest.raises(NotPermitted):
        make_case(session, opener=landlord, area=world["area"], site=other)
    with pytest.raises(RuleViolation) as exc:
        make_case(session, opener=landlord, area=world["area"])
    assert "site_id" in _errors(exc)


def test_accept_assigns_and_second_accept_names_who_was_first(session, world):
    case = make_case(session, area=world["area"])
    accept(session, case, lead=world["lead"], mediator=world["mediator"], others=[world["second"]])
    assert case.status == "accepted" and case.conclude_due is not None
    assert {m.user_id for m in queries.mediators(session, case)} == {
        world["mediator"].id,
        world["second"].id,
    }
    with pytest.raises(Conflict) as exc:
        accept(session, case, lead=world["lead"], mediator=world["mediator"])
    assert world["lead"].display_name in exc.value.message


def test_conflict_check_needs_the_leads_reason(session, world):
    # The mediator's phone is a party's phone: flagged.
    case = make_case(
        session,
        area=world["area"],
        parties=[party("王五", "13900000011"), party("赵六", "13800000009", "respondent")],
    )
    with pytest.raises(RuleViolation) as exc:
        accept(session, case, lead=world["lead"], mediator=world["mediator"])
    assert "confirm_reason" in _errors(exc)
    assert session.get(MediationCase, case.id).status == "new"
    accept(session, case, lead=world["lead"], mediator=world["mediator"], reason="当事人同意")
    flagged = queries.mediators(session, case)[0]
    assert flagged.conflict and flagged.confirm_reason == "当事人同意"


def test_earlier_case_with_the_mediator_is_flagged(session, world):
    make_case(
        session,
        area=world["area"],
        parties=[party("张三", "13800000001"), party("老娘舅", "13900000011", "respondent")],
    )
    later = make_case(session, area=world["area"])  # 张三 again
    with force_locale("en"):
        found = services.conflict_findings(session, later, world["mediator"])
    assert found and "earlier" in found


def _book(session, world, case, start, hours=1, mediator=None, room=None):
    return services.book_session(
        session,
        world["lead"],
        case,
        services.Booking(
            room or world["room"],
            (mediator or world["mediator"]).id,
            start,
            start + timedelta(hours=hours),
        ),
    )


def _tomorrow(hour, minute=0):
    from community.core.timeutil import now_local

    day = now_local().date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute)


def test_sessions_are_never_double_booked(session, world):
    a = make_case(session, area=world["area"])
    b = make_case(session, area=world["area"])
    accept(session, a, lead=world["lead"], mediator=world["mediator"])
    accept(session, b, lead=world["lead"], mediator=world["second"])
    first = _book(session, world, a, _tomorrow(9))
    with pytest.raises(Conflict) as exc:
        _book(session, world, b, _tomorrow(9, 30), mediator=world["second"])
    assert a.number in exc.value.message and world["room"].name in exc.value.message
    with pytest.raises(Conflict) as exc:  # the mediator is busy in another room
        _book(session, world, a, _tomorrow(9, 30), room=world["outstation"])
    assert world["mediator"].display_name in exc.value.message
    # Back to back is fine; a cancelled session frees the slot.
    _book(session, world, b, _tomorrow(10), mediator=world["second"])
    services.cancel_session(session, world["lead"], first)
    _book(session, world, b, _tomorrow(8, 30), mediator=world["second"], hours=0.5)


def test_the_database_refuses_an_overlap_without_the_service(session, world):
    from sqlalchemy.exc import IntegrityError

    from community.core.timeutil import to_utc

    case = make_case(session, area=world["area"])
    accept(session, case, lead=world["lead"], mediator=world["mediator"])
    start = to_utc(_tomorrow(9))
    row = dict(case_id=case.id, room_id=world["room"].id, status="booked")
    session.add(
        MediationSession(
            mediator_id=world["mediator"].id,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            **row,
        )
    )
    session.flush()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(
            MediationSession(
                mediator_id=world["second"].id,
                starts_at=start + timedelta(hours=1),
                ends_at=start + timedelta(hours=3),
                **row,
            )
        )
        session.flush()


def test_booking_within_opening_hours_and_forward(session, world):
    case = make_case(session, area=world["area"])
    with pytest.raises(Conflict):
        _book(session, world, case, _tomorrow(9))  # not accepted
    accept(session, case, lead=world["lead"], mediator=world["mediator"])
    with pytest.raises(RuleViolation) as exc:
        _book(session, world, case, _tomorrow(7))
    assert "starts_at" in _errors(exc)
    with pytest.raises(RuleViolation) as exc:
        _book(session, world, case, _tomorrow(17), hours=1)
    assert "ends_at" in _errors(exc)
    with pytest.raises(RuleViolation) as exc:
        _book(session, world, case, _tomorrow(10), hours=-1)
    assert "ends_at" in _errors(exc)
    with pytest.raises(RuleViolation) as exc:
        _book(session, world, case, _tomorrow(10), mediator=world["second"])
    assert "mediator_id" in _errors(exc)


def test_agreement_followup_and_close(session, world, frozen_clock):
    frozen_clock("2026-12-01 10:00")
    case = make_case(session, area=world["area"])
    accept(session, case, lead=world["lead"], mediator=world["mediator"])
    with pytest.raises(RuleViolation) as exc:
        services.record_followup(
            session, world["mediator"], case, performed=True, satisfied=True, note=None
        )
    assert exc.value.field is None
    with pytest.raises(RuleViolation) as exc:
        services.conclude_case(session, world["mediator"], case, services.Outcome("agreement"))
    assert "terms" in _errors(exc)
    services.conclude_case(
        session,
        world["mediator"],
        case,
        services.Outcome("agreement", terms="退还押金 2000 元", settled_amount=2000),
    )
    assert case.followup_due.isoformat() == "2026-12-31"
    with pytest.raises(RuleViolation):
        services.close_case(session, world["mediator"], case)
    services.record_followup(
        session, world["mediator"], case, performed=True, satisfied=True, note="已履行"
    )
    with pytest.raises(Conflict) as exc:
        services.record_followup(
            session, world["lead"], case, performed=True, satisfied=True, note=None
        )
    assert world["mediator"].display_name in exc.value.message
    services.close_case(session, world["mediator"], case)
    assert case.status == "closed" and case.closed_by_id == world["mediator"].id
    kinds = [e.kind for e in queries.timeline(session, case)]
    assert kinds == ["opened", "accepted", "concluded", "followup", "closed"]
    actions = set(
        session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.object_id == case.id, AuditEvent.object_type == "mediationcase"
            )
        )
    )
    assert {"mediation.opened", "mediation.accepted", "mediation.closed"} <= actions


def test_referral_needs_where_and_why_and_withdrawal_from_new(session, world):
    case = make_case(session, area=world["area"])
    with pytest.raises(Conflict):
        services.conclude_case(
            session, world["lead"], case, services.Outcome("referred", referral="court", reason="x")
        )
    services.conclude_case(
        session, world["lead"], case, services.Outcome("withdrawn", reason="双方和解")
    )
    assert case.status == "concluded" and case.outcome == "withdrawn"
    other = make_case(session, area=world["area"])
    accept(session, other, lead=world["lead"], mediator=world["mediator"])
    with pytest.raises(RuleViolation) as exc:
        services.conclude_case(session, world["lead"], other, services.Outcome("referred"))
    assert {"referral", "reason"} <= set(_errors(exc))


def test_deadlines_at_their_edges_in_local_time(session, world, frozen_clock):
    # 23:30 on Dec 1 in Shanghai is still Dec 1 locally (15:30 UTC).
    frozen_clock("2026-12-01 23:30")
    case = make_case(session, area=world["area"])
    assert case.accept_due.isoformat() == "2026-12-04"
    frozen_clock("2026-12-04 23:59")
    assert services.mark_overdue(session) == 0
    frozen_clock("2026-12-05 00:01")
    assert services.mark_overdue(session) == 1
    assert services.mark_overdue(session) == 0  # once
    assert session.get(MediationCase, case.id).overdue
    notices = session.scalars(select(Notification).where(Notification.kind == "mediation-overdue"))
    assert {n.user_id for n in notices} == {world["lead"].id}
    # Accepted on Dec 5: concluded by Jan 4, overdue from Jan 5 local.
    accept(session, case, lead=world["lead"], mediator=world["mediator"])
    assert case.conclude_due.isoformat() == "2027-01-04" and not case.overdue
    frozen_clock("2027-01-04 23:59")
    assert services.mark_overdue(session) == 0
    frozen_clock("2027-01-05 00:00")
    assert services.mark_overdue(session) == 1


def test_search_by_number_name_prefix_and_phone(session, world):
    police = make_role_user(session, "police", area=world["area"])
    case = make_case(session, area=world["area"], opener=police)
    make_case(
        session,
        area=world["area"],
        opener=police,
        parties=[party("王五", "13700000001"), party("赵六", "13700000002", "respondent")],
    )
    found = lambda q: [c.id for c in queries.list_cases(session, police, q=q).items]  # noqa: E731
    assert found(case.number) == [case.id]
    assert found(case.number.lower()) == [case.id]
    assert found("张") == [case.id] and found("张三") == [case.id]
    assert found("13800000002") == [case.id]
    assert found("三") == [] and found("13800000009") == []


def test_high_risk_first(session, world):
    police = make_role_user(session, "police", area=world["area"])
    low = make_case(session, area=world["area"], opener=police, risk="low")
    high = make_case(session, area=world["area"], opener=police, risk="high")
    mid = make_case(session, area=world["area"], opener=police, risk="medium")
    assert [c.id for c in queries.list_cases(session, police).items] == [high.id, mid.id, low.id]


def test_member_of_another_team_cannot_be_assigned(session, world):
    other = mediation_world(session)
    case = make_case(session, area=world["area"])
    with pytest.raises(RuleViolation) as exc:
        accept(session, case, lead=world["lead"], mediator=other["mediator"])
    assert "lead_mediator_id" in _errors(exc)
    make_member(session, team=world["team"])  # the factory path works for the team


def test_the_worker_job_marks_overdue_cases(session, world, frozen_clock):
    from community.core.jobs import periodic_jobs

    job = {j.kind: j for j in periodic_jobs()}["mediation-overdue"]
    frozen_clock("2026-12-01 09:00")
    make_case(session, area=world["area"])
    now = frozen_clock("2026-12-05 08:00")
    assert job.fn(session, now) == "overdue cases marked: 1"
