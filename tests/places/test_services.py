"""Places rules: who may register what where, duplicates, tokens, association membership."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from community.core.errors import Conflict, NotPermitted, RuleViolation
from community.core.models import AuditEvent
from community.core.timeutil import today, utcnow
from community.places import queries, services
from community.places.models import AssociationApplication, Building, Room
from tests.factories.accounts import make_role_user
from tests.factories.places import make_application, make_building, make_room, make_site


def _site(session, actor, **overrides):
    data = {
        "name": "新房",
        "kind": "rental_house",
        "area_id": None,
        "address": "东村路1号",
        "association_id": None,
        "company_id": None,
        "landlord_username": None,
    }
    data.update(overrides)
    return services.create_site(session, actor, **data)


def _events(session, action):
    return session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


# --- sites ---------------------------------------------------------------------------


def test_landlord_registers_a_site_they_own(session, world):
    site = _site(session, world.landlord, area_id=world.east.id)
    assert site.landlord_id == world.landlord.id
    assert site.created_by_id == world.landlord.id
    assert site.company_id is None and site.qr_token
    assert _events(session, "site_created") == 1


def test_landlord_cannot_register_a_site_in_another_community(session, world):
    with pytest.raises(RuleViolation) as exc:
        _site(session, world.landlord, area_id=world.west.id)
    assert exc.value.field == "area_id"


def test_a_site_sits_in_a_community_not_a_street(session, world):
    police = make_role_user(session, "police", org=world.police_station)
    with pytest.raises(RuleViolation) as exc:
        _site(session, police, area_id=world.street.id)
    assert exc.value.field == "area_id"


@pytest.mark.parametrize("field", ["name", "address"])
def test_blank_name_or_address_is_refused(session, world, field):
    with pytest.raises(RuleViolation) as exc:
        _site(session, world.landlord, area_id=world.east.id, **{field: "   "})
    assert exc.value.field == field


def test_property_manager_registers_compounds_for_their_company(session, world):
    manager = make_role_user(session, "property_manager", org=world.company)
    with pytest.raises(RuleViolation) as exc:
        _site(session, manager, kind="compound", area_id=world.east.id)
    assert exc.value.field == "company_id"
    with pytest.raises(RuleViolation):
        _site(session, manager, area_id=world.east.id, company_id=world.other_company.id)
    site = _site(
        session, manager, kind="compound", area_id=world.east.id, company_id=world.company.id
    )
    assert site.company_id == world.company.id and site.landlord_id is None


def test_police_name_the_landlord_by_username_or_leave_it_empty(session, world):
    police = make_role_user(session, "police", org=world.police_station)
    site = _site(session, police, area_id=world.east.id, landlord_username=world.landlord.username)
    assert site.landlord_id == world.landlord.id
    assert _site(session, police, area_id=world.east.id, name="无主").landlord_id is None
    coordinator = make_role_user(session, "coordinator", org=world.office)
    for username in ("nobody-here", coordinator.username):
        with pytest.raises(RuleViolation) as exc:
            _site(session, police, area_id=world.east.id, landlord_username=username)
        assert exc.value.field == "landlord_username"


def test_landlord_picks_only_an_association_they_are_a_member_of(session, world):
    with pytest.raises(RuleViolation) as exc:
        _site(session, world.landlord, area_id=world.east.id, association_id=world.association.id)
    assert exc.value.field == "association_id"
    make_application(
        session, landlord=world.landlord, association=world.association, status="approved"
    )
    site = _site(
        session, world.landlord, area_id=world.east.id, association_id=world.association.id
    )
    assert site.association_id == world.association.id


def test_pending_membership_is_not_enough(session, world):
    make_application(session, landlord=world.landlord, association=world.association)
    with pytest.raises(RuleViolation):
        _site(session, world.landlord, area_id=world.east.id, association_id=world.association.id)


def test_police_attach_any_association_of_the_sites_community(session, world):
    police = make_role_user(session, "police", org=world.police_station)
    site = _site(session, police, area_id=world.east.id, association_id=world.association.id)
    assert site.association_id == world.association.id
    with pytest.raises(RuleViolation) as exc:
        _site(session, police, area_id=world.east.id, association_id=world.west_association.id)
    assert exc.value.field == "association_id"


def test_landlord_edit_keeps_what_police_set(session, world):
    police = make_role_user(session, "police", org=world.police_station)
    site = _site(
        session,
        police,
        area_id=world.east.id,
        association_id=world.association.id,
        company_id=world.company.id,
        landlord_username=world.landlord.username,
    )
    services.update_site(
        session,
        world.landlord,
        site,
        name="改名",
        kind="rental_apartment",
        area_id=world.east.id,
        address="新地址",
        association_id=world.association.id,
        company_id=world.company.id,
        landlord_username="ignored-for-landlords",
    )
    assert (site.name, site.kind, site.landlord_id) == (
        "改名",
        "rental_apartment",
        world.landlord.id,
    )
    assert site.association_id == world.association.id
    assert _events(session, "site_updated") == 1


def test_moving_a_site_to_another_community_drops_a_foreign_association(session, world):
    admin = make_role_user(session, "admin")
    site = _site(session, admin, area_id=world.east.id, association_id=world.association.id)
    with pytest.raises(RuleViolation) as exc:
        services.update_site(
            session,
            admin,
            site,
            name=site.name,
            kind=site.kind,
            area_id=world.west.id,
            address=site.address,
            association_id=world.association.id,
        )
    assert exc.value.field == "association_id"


# --- buildings and rooms ----------------------------------------------------------------


def test_building_names_are_unique_within_a_site(session, world):
    site = make_site(session, area=world.east, landlord=world.landlord)
    other = make_site(session, area=world.east, landlord=world.landlord)
    services.add_building(session, world.landlord, site, " 1号楼 ")
    services.add_building(session, world.landlord, other, "1号楼")
    with pytest.raises(RuleViolation) as exc:
        services.add_building(session, world.landlord, site, "1号楼")
    assert exc.value.field == "name"
    count = session.scalar(
        select(func.count()).select_from(Building).where(Building.site_id == site.id)
    )
    assert count == 1


def test_room_numbers_are_unique_within_a_building(session, world):
    site = make_site(session, area=world.east, landlord=world.landlord)
    a, b = make_building(session, site=site), make_building(session, site=site)
    services.add_room(session, world.landlord, a, number="101", beds=2, occupants=1)
    services.add_room(session, world.landlord, b, number="101", beds=2, occupants=1)
    with pytest.raises(RuleViolation) as exc:
        services.add_room(session, world.landlord, a, number="101", beds=1, occupants=0)
    assert exc.value.field == "number"


def test_database_backstop_turns_a_racing_duplicate_into_a_rule_violation(
    session, world, monkeypatch
):
    site = make_site(session, area=world.east, landlord=world.landlord)
    building = make_building(session, site=site)
    make_room(session, building=building, number="101")
    # As if a concurrent request inserted 101 between the check and the insert.
    monkeypatch.setattr(services, "_room_number_taken", lambda *a, **k: False)
    with pytest.raises(RuleViolation) as exc:
        services.add_room(session, world.landlord, building, number="101", beds=1, occupants=0)
    assert exc.value.field == "number"
    # The transaction is still usable.
    services.add_room(session, world.landlord, building, number="102", beds=1, occupants=0)
    assert session.scalar(select(func.count()).select_from(Room)) >= 2


def test_head_count_is_dated_when_it_changes(session, world):
    site = make_site(session, area=world.east, landlord=world.landlord)
    building = make_building(session, site=site)
    room = services.add_room(session, world.landlord, building, number="201", beds=2, occupants=2)
    assert room.counted_on == today()
    room.counted_on = today() - timedelta(days=40)
    services.update_room(session, world.landlord, room, number="201", beds=3, occupants=2)
    assert room.counted_on == today() - timedelta(days=40)
    services.update_room(session, world.landlord, room, number="201", beds=3, occupants=4)
    assert (room.beds, room.occupants, room.counted_on) == (3, 4, today())


def test_renaming_a_room_to_a_taken_number_is_refused(session, world):
    site = make_site(session, area=world.east, landlord=world.landlord)
    building = make_building(session, site=site)
    make_room(session, building=building, number="101")
    room = make_room(session, building=building, number="102")
    with pytest.raises(RuleViolation) as exc:
        services.update_room(session, world.landlord, room, number="101", beds=1, occupants=0)
    assert exc.value.field == "number"


@pytest.mark.parametrize("beds,occupants,field", [(-1, 0, "beds"), (1, 501, "occupants")])
def test_room_figures_stay_in_range(session, world, beds, occupants, field):
    site = make_site(session, area=world.east, landlord=world.landlord)
    building = make_building(session, site=site)
    with pytest.raises(RuleViolation) as exc:
        services.add_room(
            session, world.landlord, building, number="1", beds=beds, occupants=occupants
        )
    assert exc.value.field == field


# --- QR tokens ----------------------------------------------------------------------------


def test_rotating_the_token_retires_the_old_one_at_once(session, world):
    site = make_site(session, area=world.east, landlord=world.landlord)
    old = site.qr_token
    assert queries.get_site_by_token(session, old) is site
    services.rotate_token(session, world.landlord, site)
    assert site.qr_token != old and len(site.qr_token) >= 20
    assert queries.get_site_by_token(session, old) is None
    assert queries.get_site_by_token(session, site.qr_token) is site
    assert _events(session, "site_token_rotated") == 1


def test_unknown_or_oversized_tokens_find_nothing(session, world):
    make_site(session, area=world.east)
    assert queries.get_site_by_token(session, "nope") is None
    assert queries.get_site_by_token(session, "x" * 500) is None
    assert queries.get_site_by_token(session, "") is None


# --- association membership ------------------------------------------------------------


def test_one_open_application_per_landlord_and_association(session, world):
    application = services.apply_to_association(session, world.landlord, world.association, "hi")
    assert application.status == "pending" and application.note == "hi"
    with pytest.raises(Conflict):
        services.apply_to_association(session, world.landlord, world.association)
    officer = make_role_user(session, "association", org=world.association)
    services.decide_application(session, officer, application, "approve")
    with pytest.raises(Conflict):
        services.apply_to_association(session, world.landlord, world.association)
    assert _events(session, "association_applied") == 1


def test_a_declined_landlord_may_apply_again(session, world):
    officer = make_role_user(session, "association", org=world.association)
    first = services.apply_to_association(session, world.landlord, world.association)
    services.decide_application(session, officer, first, "decline", "证件不全")
    assert (first.status, first.reason, first.decided_by_id) == ("declined", "证件不全", officer.id)
    second = services.apply_to_association(session, world.landlord, world.association)
    assert second.status == "pending"


def test_landlord_applies_only_to_their_communitys_association(session, world):
    with pytest.raises(NotPermitted):
        services.apply_to_association(session, world.landlord, world.west_association)
    coordinator = make_role_user(session, "coordinator", org=world.office)
    with pytest.raises(NotPermitted):
        services.apply_to_association(session, coordinator, world.association)


def test_declining_needs_a_reason_and_only_pending_is_decided(session, world):
    officer = make_role_user(session, "association", org=world.association)
    application = services.apply_to_association(session, world.landlord, world.association)
    with pytest.raises(RuleViolation) as exc:
        services.decide_application(session, officer, application, "decline", "  ")
    assert exc.value.field == "reason"
    with pytest.raises(RuleViolation) as exc:
        services.decide_application(session, officer, application, "maybe")
    assert exc.value.field == "decision"
    services.decide_application(session, officer, application, "approve")
    assert application.status == "approved" and application.decided_at is not None
    with pytest.raises(Conflict):
        services.decide_application(session, officer, application, "decline", "late")
    assert _events(session, "association_application_approved") == 1


def test_a_decision_made_elsewhere_meanwhile_is_a_conflict(session, world):
    officer = make_role_user(session, "association", org=world.association)
    application = make_application(session, landlord=world.landlord, association=world.association)
    # Another officer approved it in the database after this one loaded the row.
    session.execute(
        AssociationApplication.__table__.update()
        .where(AssociationApplication.id == application.id)
        .values(status="approved")
    )
    with pytest.raises(Conflict):
        services.decide_application(session, officer, application, "decline", "no")


# --- lists and filters -----------------------------------------------------------------


def test_bad_filter_values_are_ignored():
    f = queries.SiteFilters.from_args(
        MultiDict(
            {"stars": "abc", "page": "-1", "area_id": "x", "kind": "castle", "admitted": "maybe"}
        )
    )
    assert (f.stars, f.page, f.area_id, f.kind, f.admitted, f.active) == (
        None,
        1,
        None,
        None,
        None,
        False,
    )


def test_filters_select_the_matching_sites(session, world):
    admin = make_role_user(session, "admin")
    old_incident = today() - timedelta(days=400)
    make_site(session, area=world.east, name="甲", admitted_on=today(), stars=5)
    make_site(session, area=world.east, name="乙", stars=3, last_incident_on=today())
    make_site(session, area=world.west, name="丙", kind="dormitory", address="工业路 9号")
    make_site(
        session,
        area=world.west,
        name="丁",
        last_incident_on=old_incident,
        created_at=utcnow() - timedelta(days=800),
    )

    def names(**args):
        filters = queries.SiteFilters.from_args(MultiDict(args))
        return [s.name for s in queries.list_sites(session, admin, filters).items]

    assert names(stars="5") == ["甲"]
    assert set(names(stars="none")) == {"丙", "丁"}
    assert names(admitted="yes") == ["甲"]
    assert "甲" not in names(admitted="no")
    assert "乙" not in names(shuangwu="yes") and "丁" in names(shuangwu="yes")
    assert names(kind="dormitory") == ["丙"]
    assert names(q="工业") == ["丙"]
    assert set(names(area_id=str(world.west.id))) == {"丙", "丁"}


def test_search_treats_percent_and_underscore_literally(session, world):
    admin = make_role_user(session, "admin")
    make_site(session, area=world.east, name="100%满意")
    make_site(session, area=world.east, name="普通")
    filters = queries.SiteFilters.from_args(MultiDict({"q": "%"}))
    assert [s.name for s in queries.list_sites(session, admin, filters).items] == ["100%满意"]


def test_list_shows_only_the_sites_in_scope(session, world):
    own = make_site(session, area=world.east, landlord=world.landlord)
    make_site(session, area=world.east, landlord=world.west_landlord)
    managed = make_site(session, area=world.east, company=world.company)
    manager = make_role_user(session, "property_manager", org=world.company)
    mine = queries.list_sites(session, world.landlord, queries.SiteFilters())
    assert [s.id for s in mine.items] == [own.id]
    theirs = queries.list_sites(session, manager, queries.SiteFilters())
    assert [s.id for s in theirs.items] == [managed.id]


def test_members_come_with_the_sites_they_attached(session, world):
    make_application(
        session, landlord=world.landlord, association=world.association, status="approved"
    )
    attached = make_site(
        session, area=world.east, landlord=world.landlord, association=world.association
    )
    make_site(session, area=world.east, landlord=world.landlord)  # not attached: not shown
    members = queries.list_members(session, [world.association.id])
    assert [(m.application.landlord_id, [s.id for s in m.sites]) for m in members] == [
        (world.landlord.id, [attached.id])
    ]
