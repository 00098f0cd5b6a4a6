"""Safety admission rules: the admission decision, completion, read-only inspections and
the re-inspection cadence."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from community.core.errors import Conflict, RuleViolation
from community.core.models import AuditEvent
from community.inspections import queries as inspections_queries
from community.inspections import services as admission
from community.inspections.models import Inspection
from tests.factories.accounts import make_area_tree, make_role_user
from tests.factories.inspections import (
    checklist,
    make_checklist_item,
    make_inspection,
)
from tests.factories.places import make_site

TODAY = date(2025, 6, 15)


@pytest.fixture
def world(session):
    district, street, community = make_area_tree(session)
    police = make_role_user(session, "police", area=community)
    site = make_site(session, area=community)
    return {"community": community, "police": police, "site": site}


def _answer_all(session, police, inspection, result="pass", **overrides):
    for item in checklist(session):
        admission.record_result(
            session, police, inspection, item, overrides.get(item.code, result), None
        )


def test_checklist_has_the_eight_required_items_in_order(session):
    items = inspections_queries.active_items(session)
    assert [i.code for i in items][:2] == ["smart_access", "cctv"]
    assert len([i for i in items if i.required]) == 8
    assert [i.position for i in items] == sorted(i.position for i in items)


def test_all_required_items_passing_admits_the_site(session, world):
    inspection = admission.start_inspection(session, world["police"], world["site"])
    _answer_all(session, world["police"], inspection)
    admission.complete_inspection(session, world["police"], inspection, on=TODAY)
    assert inspection.status == "completed"
    assert inspection.passed is True
    assert world["site"].admitted_on == TODAY
    assert world["site"].last_inspected_on == TODAY


def test_a_failing_required_item_refuses_admission_and_flags_an_admitted_site(session, world):
    site = world["site"]
    site.admitted_on = date(2024, 1, 1)
    inspection = admission.start_inspection(session, world["police"], site)
    _answer_all(session, world["police"], inspection, cctv="fail")
    admission.complete_inspection(session, world["police"], inspection, on=TODAY)
    assert inspection.passed is False
    assert site.admitted_on is None
    assert site.last_inspected_on == TODAY


def test_not_applicable_on_a_required_item_does_not_pass(session, world):
    inspection = admission.start_inspection(session, world["police"], world["site"])
    _answer_all(session, world["police"], inspection, smoke_alarm="na")
    summary = admission.summarize(inspections_queries.checklist_rows(session, inspection))
    assert summary.complete and not summary.would_admit
    assert [i.code for i in summary.required_failing] == ["smoke_alarm"]
    admission.complete_inspection(session, world["police"], inspection, on=TODAY)
    assert inspection.passed is False
    assert world["site"].admitted_on is None


def test_optional_items_never_block_admission(session, world):
    optional = make_checklist_item(session, required=False)
    inspection = admission.start_inspection(session, world["police"], world["site"])
    for item in checklist(session):
        if item.id != optional.id:
            admission.record_result(session, world["police"], inspection, item, "pass")
    # unanswered optional item: still complete and admitted
    summary = admission.summarize(inspections_queries.checklist_rows(session, inspection))
    assert summary.complete and summary.would_admit and summary.unanswered == 1
    admission.record_result(session, world["police"], inspection, optional, "fail")
    admission.complete_inspection(session, world["police"], inspection, on=TODAY)
    assert inspection.passed is True
    assert world["site"].admitted_on == TODAY


def test_completion_needs_every_required_item_answered(session, world):
    inspection = admission.start_inspection(session, world["police"], world["site"])
    items = checklist(session)
    for item in items[:-1]:
        admission.record_result(session, world["police"], inspection, item, "pass")
    with pytest.raises(RuleViolation) as exc:
        admission.complete_inspection(session, world["police"], inspection, on=TODAY)
    assert "1" in exc.value.message
    assert inspection.status == "open"
    assert world["site"].last_inspected_on is None


def test_readmission_keeps_the_earlier_admission_date(session, world):
    site = world["site"]
    site.admitted_on = date(2024, 3, 1)
    inspection = admission.start_inspection(session, world["police"], site)
    _answer_all(session, world["police"], inspection)
    admission.complete_inspection(session, world["police"], inspection, on=TODAY)
    assert site.admitted_on == date(2024, 3, 1)
    assert site.last_inspected_on == TODAY


def test_completed_inspection_is_read_only(session, world):
    inspection = admission.start_inspection(session, world["police"], world["site"])
    _answer_all(session, world["police"], inspection)
    admission.complete_inspection(session, world["police"], inspection, on=TODAY)
    item = checklist(session)[0]
    with pytest.raises(Conflict):
        admission.record_result(session, world["police"], inspection, item, "fail")
    with pytest.raises(Conflict):
        admission.complete_inspection(session, world["police"], inspection, on=TODAY)


def test_ticking_an_item_twice_keeps_one_answer(session, world):
    inspection = admission.start_inspection(session, world["police"], world["site"])
    item = checklist(session)[0]
    admission.record_result(session, world["police"], inspection, item, "fail", " broken ")
    answer = admission.record_result(session, world["police"], inspection, item, "pass", "")
    rows = inspections_queries.checklist_rows(session, inspection)
    assert rows[0].result.id == answer.id
    assert (answer.result, answer.note) == ("pass", None)


def test_unknown_result_and_long_note_are_refused(session, world):
    inspection = admission.start_inspection(session, world["police"], world["site"])
    item = checklist(session)[0]
    with pytest.raises(RuleViolation) as exc:
        admission.record_result(session, world["police"], inspection, item, "maybe")
    assert exc.value.field == "result"
    with pytest.raises(RuleViolation) as exc:
        admission.record_result(session, world["police"], inspection, item, "pass", "x" * 256)
    assert exc.value.field == "note"


def test_starting_again_reuses_the_open_inspection(session, world):
    first = admission.start_inspection(session, world["police"], world["site"])
    second = admission.start_inspection(session, world["police"], world["site"])
    assert first.id == second.id
    count = session.scalars(select(Inspection).where(Inspection.site_id == world["site"].id))
    assert len(count.all()) == 1


def test_completion_writes_an_audit_event(session, world):
    inspection = admission.start_inspection(session, world["police"], world["site"])
    _answer_all(session, world["police"], inspection, wiring="fail")
    admission.complete_inspection(session, world["police"], inspection, on=TODAY)
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "inspection.completed", AuditEvent.object_id == inspection.id
        )
    )
    assert event.actor_id == world["police"].id
    assert event.detail["passed"] is False
    assert event.detail["failing"] == ["wiring"]


def test_history_lists_newest_first(session, world):
    site = world["site"]
    old = make_inspection(
        session, site=site, inspected_on=TODAY - timedelta(days=200), results="pass", completed=True
    )
    new = make_inspection(session, site=site, inspected_on=TODAY, results="pass", completed=True)
    assert [i.id for i in inspections_queries.list_history(session, site)] == [new.id, old.id]


# --- cadence ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stars", "days"), [(5, 90), (4, 60), (3, 30), (2, 14), (1, 14), (None, 30)]
)
def test_cadence_follows_the_stars_of_an_admitted_site(session, world, stars, days):
    site = world["site"]
    site.admitted_on = date(2024, 1, 1)
    site.stars = stars
    site.last_inspected_on = TODAY
    assert inspections_queries.cadence_days(site) == days
    assert inspections_queries.next_due_on(site) == TODAY + timedelta(days=days)


@pytest.mark.parametrize("stars", [5, 3, None])
def test_a_site_not_admitted_is_due_again_after_14_days(session, world, stars):
    site = world["site"]
    site.admitted_on = None
    site.stars = stars
    site.last_inspected_on = TODAY
    assert inspections_queries.next_due_on(site) == TODAY + timedelta(days=14)


def test_a_never_inspected_site_is_due_now(session, world):
    site = world["site"]
    assert inspections_queries.next_due_on(site) is None
    assert inspections_queries.due_in_days(site, TODAY) == 0


@pytest.mark.parametrize(
    ("stars", "days"), [(5, 90), (4, 60), (3, 30), (2, 14), (1, 14), (None, 30)]
)
def test_due_list_boundary_days(session, world, stars, days):
    """Due within 7 days shows; due in 8 days does not; overdue shows."""
    community = world["community"]
    admin = make_role_user(session, "admin")
    shown = {}
    for offset in (-30, 0, 7, 8):
        site = make_site(
            session,
            area=community,
            admitted_on=date(2020, 1, 1),
            stars=stars,
            last_inspected_on=TODAY - timedelta(days=days) + timedelta(days=offset),
        )
        shown[offset] = site.id
    page = inspections_queries.list_due(session, admin, today=TODAY, per_page=100)
    ids = {row.site.id: row for row in page.items}
    assert shown[-30] in ids and shown[0] in ids and shown[7] in ids
    assert shown[8] not in ids
    assert ids[shown[-30]].days == -30
    assert ids[shown[7]].days == 7


def test_due_list_orders_never_inspected_then_by_due_date(session, world):
    community = world["community"]
    admin = make_role_user(session, "admin")
    five = make_site(
        session,
        area=community,
        name="five",
        admitted_on=date(2020, 1, 1),
        stars=5,
        last_inspected_on=TODAY - timedelta(days=100),  # due 10 days ago
    )
    flagged = make_site(
        session,
        area=community,
        name="flagged",
        last_inspected_on=TODAY - timedelta(days=40),  # not admitted: due 26 days ago
    )
    soon = make_site(
        session,
        area=community,
        name="soon",
        admitted_on=date(2020, 1, 1),
        stars=3,
        last_inspected_on=TODAY - timedelta(days=27),  # due in 3 days
    )
    page = inspections_queries.list_due(session, admin, today=TODAY, per_page=100)
    order = [row.site.id for row in page.items]
    never = world["site"].id
    assert order.index(never) < order.index(flagged.id) < order.index(five.id)
    assert order.index(five.id) < order.index(soon.id)
    assert [r.days for r in page.items if r.site.id == soon.id] == [3]


def test_due_list_pages_run_on_from_never_inspected_into_inspected_sites(session, world):
    """Never-inspected sites (by name) and inspected ones (by due date) are paged as one
    list: a page that straddles the two parts takes the rest from the second."""
    community = world["community"]
    admin = make_role_user(session, "admin")
    for n in range(3):
        make_site(session, area=community, name=f"never-{n}")
    inspected = [
        make_site(
            session,
            area=community,
            name=f"due-{n}",
            last_inspected_on=TODAY - timedelta(days=40 + n),  # not admitted: overdue
        )
        for n in range(3)
    ]
    whole = inspections_queries.list_due(session, admin, today=TODAY, per_page=100)
    pages = [
        inspections_queries.list_due(session, admin, today=TODAY, page=p, per_page=2)
        for p in range(1, 5)
    ]
    assert whole.total == pages[0].total == sum(len(p.items) for p in pages)
    assert [r.site.id for p in pages for r in p.items] == [r.site.id for r in whole.items]
    never_count = sum(1 for r in whole.items if r.due_on is None)
    assert [r.due_on is None for r in whole.items] == [True] * never_count + [False] * 3
    # the inspected part is ordered by due date: the longest overdue first
    assert [r.site.id for r in whole.items[never_count:]] == [s.id for s in reversed(inspected)]
    # a page past the end answers the last page
    assert inspections_queries.list_due(session, admin, today=TODAY, page=99, per_page=2).page == 4
