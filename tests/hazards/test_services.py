"""Hazard rules: assignment, the open -> fixed -> closed workflow, lists, demo data."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from community.accounts.permissions import can
from community.core.errors import Conflict, RuleViolation
from community.core.models import AuditEvent
from community.hazards import demo as hazards_demo
from community.hazards import permissions as hazards_permissions
from community.hazards import queries as hazards_queries
from community.hazards import services
from community.hazards.models import Hazard
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.hazards import make_hazard
from tests.factories.places import make_site


@pytest.fixture
def w(session):
    district, street, community = make_area_tree(session)
    other = make_area_tree(session)[2]
    company = make_org(session, kind="property_company", area=community)
    landlord = make_role_user(session, "landlord", area=community)
    police = make_role_user(
        session, "police", org=make_org(session, kind="police_station", area=street)
    )
    volunteer = make_role_user(session, "volunteer", area=community)
    coordinator = make_role_user(
        session, "coordinator", org=make_org(session, kind="community_office", area=community)
    )
    manager = make_role_user(session, "property_manager", org=company)
    return SimpleNamespace(
        community=community,
        other=other,
        company=company,
        landlord=landlord,
        police=police,
        volunteer=volunteer,
        coordinator=coordinator,
        manager=manager,
        site=make_site(session, area=community, landlord=landlord, company=company),
        other_site=make_site(
            session, area=other, landlord=make_role_user(session, "landlord", area=other)
        ),
    )


def _actions(session, hazard):
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "hazard", AuditEvent.object_id == hazard.id)
            .order_by(AuditEvent.id)
        )
    )


# --- assignment ---------------------------------------------------------------


def test_hazard_at_a_site_with_landlord_and_company_is_assigned_to_both(session, w):
    hazard = make_hazard(session, site=w.site, reporter=w.volunteer)
    assert (hazard.assignee_user_id, hazard.assignee_org_id) == (w.landlord.id, w.company.id)
    assert hazard.status == "open" and hazard.reopen_count == 0
    assert _actions(session, hazard) == ["hazard_reported"]


def test_hazard_at_a_landlord_only_site_is_assigned_to_the_landlord(session, w):
    site = make_site(session, area=w.community, landlord=w.landlord)
    hazard = make_hazard(session, site=site, reporter=w.volunteer)
    assert (hazard.assignee_user_id, hazard.assignee_org_id) == (w.landlord.id, None)


def test_hazard_at_a_company_site_is_assigned_to_the_company(session, w):
    site = make_site(session, area=w.community, company=w.company)
    hazard = make_hazard(session, site=site, reporter=w.volunteer)
    assert (hazard.assignee_user_id, hazard.assignee_org_id) == (None, w.company.id)
    assert can(w.manager, "hazard.fix", hazard)
    assert not can(w.landlord, "hazard.fix", hazard)


def test_hazard_at_a_site_run_by_nobody_is_unassigned_and_police_can_fix_it(session, w):
    site = make_site(session, area=w.community)
    hazard = make_hazard(session, site=site, reporter=w.volunteer)
    assert (hazard.assignee_user_id, hazard.assignee_org_id) == (None, None)
    assert can(w.police, "hazard.fix", hazard)


def test_report_refuses_blank_description_and_unknown_severity(session, w):
    with pytest.raises(RuleViolation) as exc:
        services.report_hazard(session, w.volunteer, w.site, description="  ", severity="low")
    assert exc.value.field == "description"
    with pytest.raises(RuleViolation) as exc:
        services.report_hazard(session, w.volunteer, w.site, description="x", severity="huge")
    assert exc.value.field == "severity"


# --- workflow -----------------------------------------------------------------


def test_full_workflow_fix_reopen_fix_close_is_recorded(session, w):
    hazard = make_hazard(session, site=w.site, reporter=w.volunteer)
    services.fix_hazard(session, w.landlord, hazard, "  cleared the stairwell ")
    assert hazard.status == "fixed" and hazard.fix_note == "cleared the stairwell"
    assert hazard.fixed_at is not None
    services.reopen_hazard(session, w.coordinator, hazard, "bikes are back")
    assert hazard.status == "open" and hazard.reopen_count == 1
    assert hazard.fix_note is None and hazard.fixed_at is None
    services.fix_hazard(session, w.manager, hazard, "bike shelter built")
    services.close_hazard(session, w.police, hazard)
    session.expire_all()
    stored = session.get(Hazard, hazard.id)
    assert stored.status == "closed" and stored.closed_by_id == w.police.id
    assert stored.closed_at is not None and stored.reopen_count == 1
    assert _actions(session, hazard) == [
        "hazard_reported",
        "hazard_fixed",
        "hazard_reopened",
        "hazard_fixed",
        "hazard_closed",
    ]
    entries = hazards_queries.history(session, stored)
    assert [e.detail.get("note") for e in entries if e.action == "hazard_fixed"] == [
        "cleared the stairwell",
        "bike shelter built",
    ]
    assert entries[2].detail["reason"] == "bikes are back"
    assert entries[-1].actor == w.police.display_name


@pytest.mark.parametrize(
    ("status", "step"),
    [
        ("open", "close"),
        ("open", "reopen"),
        ("fixed", "fix"),
        ("closed", "fix"),
        ("closed", "close"),
        ("closed", "reopen"),
    ],
)
def test_transition_from_the_wrong_state_is_a_conflict(session, w, status, step):
    hazard = make_hazard(session, site=w.site, reporter=w.police, status=status)
    with pytest.raises(Conflict):
        if step == "fix":
            services.fix_hazard(session, w.police, hazard, "note")
        elif step == "close":
            services.close_hazard(session, w.police, hazard)
        else:
            services.reopen_hazard(session, w.police, hazard, "reason")
    assert hazard.status == status


def test_a_step_taken_by_someone_else_meanwhile_is_a_conflict(session, w):
    hazard = make_hazard(session, site=w.site, reporter=w.police, status="fixed")
    # Another request closed it after this one loaded the hazard.
    session.execute(Hazard.__table__.update().values(status="closed"))
    with pytest.raises(Conflict):
        services.reopen_hazard(session, w.police, hazard, "reason")
    assert hazard.status == "closed"


def test_fix_and_reopen_need_text(session, w):
    hazard = make_hazard(session, site=w.site, reporter=w.police)
    with pytest.raises(RuleViolation) as exc:
        services.fix_hazard(session, w.police, hazard, " ")
    assert exc.value.field == "note"
    services.fix_hazard(session, w.police, hazard, "done")
    with pytest.raises(RuleViolation) as exc:
        services.reopen_hazard(session, w.police, hazard, "")
    assert exc.value.field == "reason"


# --- lists ----------------------------------------------------------------------


def _ids(page):
    return {h.id for h in page.items}


def test_lists_are_limited_to_visible_sites_and_the_tab(session, w):
    mine = make_hazard(session, site=w.site, reporter=w.volunteer)
    by_police = make_hazard(session, site=w.site, reporter=w.police)
    elsewhere = make_hazard(session, site=w.other_site, reporter=w.police)
    assert _ids(hazards_queries.list_hazards(session, w.volunteer, tab="area")) == {
        mine.id,
        by_police.id,
    }
    assert _ids(hazards_queries.list_hazards(session, w.volunteer, tab="reported")) == {mine.id}
    assert _ids(hazards_queries.list_hazards(session, w.landlord, tab="assigned")) == {
        mine.id,
        by_police.id,
    }
    assert _ids(hazards_queries.list_hazards(session, w.manager, tab="assigned")) == {
        mine.id,
        by_police.id,
    }
    # The police liaison reported a hazard in an area they do not cover: not listed.
    assert elsewhere.id not in _ids(hazards_queries.list_hazards(session, w.police, tab="reported"))


def test_status_filter_hides_closed_hazards_by_default(session, w):
    open_ = make_hazard(session, site=w.site, reporter=w.police)
    fixed = make_hazard(session, site=w.site, reporter=w.police, status="fixed")
    closed = make_hazard(session, site=w.site, reporter=w.police, status="closed")
    assert _ids(hazards_queries.list_hazards(session, w.police)) == {open_.id, fixed.id}
    assert _ids(hazards_queries.list_hazards(session, w.police, status="closed")) == {closed.id}
    assert _ids(hazards_queries.list_hazards(session, w.police, status="all")) == {
        open_.id,
        fixed.id,
        closed.id,
    }


def test_tabs_follow_the_roles(session, w):
    assert hazards_permissions.tabs_for(w.landlord) == ["assigned", "area"]
    assert hazards_permissions.tabs_for(w.volunteer) == ["area", "reported"]
    assert hazards_permissions.tabs_for(w.police) == ["area", "reported"]


def test_site_hazards_counts_open_and_fixed_only(session, w):
    make_hazard(session, site=w.site, reporter=w.police)
    make_hazard(session, site=w.site, reporter=w.police, status="fixed")
    make_hazard(session, site=w.site, reporter=w.police, status="closed")
    items, count = hazards_queries.site_hazards(session, w.site, limit=1)
    assert count == 2 and len(items) == 1
    assert hazards_queries.count_open(session, w.site.id) == 1


# --- demo -----------------------------------------------------------------------


def test_demo_makes_hazards_in_every_state(session, w):
    sites = {"b": w.site, "a": make_site(session, area=w.community, company=w.company)}
    hazards_demo.seed(
        session, {"sites": sites, "users": {"volunteer": w.volunteer, "police": w.police}}
    )
    hazards = list(
        session.scalars(select(Hazard).where(Hazard.site_id.in_([s.id for s in sites.values()])))
    )
    assert {h.status for h in hazards} == {"open", "fixed", "closed"}
    assert any(h.reopen_count == 1 and h.status == "open" for h in hazards)
    assert {h.reported_by_id for h in hazards} == {w.volunteer.id}
    assert all(h.photo is None for h in hazards)


def test_demo_without_sites_does_nothing(session, w):
    before = session.scalar(select(Hazard.id).limit(1))
    hazards_demo.seed(session, {"sites": {}, "users": {"police": w.police}})
    assert session.scalar(select(Hazard.id).limit(1)) == before
