"""Each event notifies the right people, and nobody else."""

from __future__ import annotations

from datetime import date

from flask_babel import force_locale

from community.assessments import services as assessments
from community.core.notify import message
from community.hazards import services as hazards
from community.residents import services as residents
from community.residents.compliance import services as compliance
from tests.factories.assessments import make_assessment
from tests.factories.hazards import make_hazard
from tests.factories.residents import make_residence
from tests.notifications.conftest import notices, recipients


def test_a_rejected_residence_notifies_its_reporter_only(world, session):
    residence = make_residence(
        session, room=world.room, reporter=world.landlord, status="rejected", decider=world.police
    )
    assert recipients(session, residents.RESIDENCE_REJECTED_NOTICE) == [world.landlord.id]
    (notice,) = notices(session, kind=residents.RESIDENCE_REJECTED_NOTICE)
    assert notice.link == f"/residents/{residence.id}"
    with force_locale("en"):
        text = message(notice.kind, notice.params)
    assert "A座 101" in text and "青年公寓" in text
    assert residence.name not in str(notice.params)


def test_a_verified_residence_notifies_nobody(world, session):
    make_residence(
        session, room=world.room, reporter=world.landlord, status="verified", decider=world.police
    )
    assert notices(session) == []


def test_a_new_hazard_notifies_the_landlord_and_the_company_managers(world, session):
    hazard = make_hazard(session, site=world.site, reporter=world.volunteer)
    assert recipients(session, hazards.ASSIGNED_NOTICE) == sorted(
        [world.landlord.id, world.manager.id, world.manager2.id]
    )
    assert {n.link for n in notices(session)} == {f"/hazards/{hazard.id}"}


def test_a_reopened_hazard_notifies_its_fixers_again(world, session):
    hazard = make_hazard(session, site=world.site, reporter=world.volunteer)
    hazards.fix_hazard(session, world.landlord, hazard, "cleared the exit")
    hazards.reopen_hazard(session, world.police, hazard, "still blocked")
    assert recipients(session, hazards.REOPENED_NOTICE) == sorted(
        [world.landlord.id, world.manager.id, world.manager2.id]
    )
    assert notices(session, user=world.police) == []
    assert notices(session, user=world.volunteer) == []


def test_a_yellow_card_to_a_company_notifies_its_members_only(world, session):
    compliance.issue_yellow_card(
        session,
        world.police,
        month=date(2026, 10, 1),
        reason="5 late",
        organization_id=world.company.id,
    )
    assert recipients(session, compliance.YELLOW_CARD_NOTICE) == sorted(
        [world.manager.id, world.manager2.id]
    )
    with force_locale("en"):
        text = message(compliance.YELLOW_CARD_NOTICE, notices(session)[0].params)
    assert text.startswith("A yellow card was issued to you for 2026-10. Reason: 5 late. ")
    assert f"contact {world.police.display_name}" in text


def test_a_yellow_card_to_a_landlord_notifies_the_landlord_only(world, session):
    compliance.issue_yellow_card(
        session, world.police, month=date(2026, 10, 1), reason="5 late", user_id=world.landlord.id
    )
    assert recipients(session, compliance.YELLOW_CARD_NOTICE) == [world.landlord.id]


def test_an_assessment_decision_notifies_its_submitter(world, session):
    manual = {"fire_safety": 10, "order_hygiene": 5, "cooperation": 10}
    approved = make_assessment(
        session, site=world.site, month=date(2026, 9, 1), submitted_by=world.manager
    )
    rejected = make_assessment(
        session, site=world.site, month=date(2026, 8, 1), submitted_by=world.landlord
    )
    assessments.decide_assessment(session, world.police, approved, "approve", None, manual)
    assessments.decide_assessment(session, world.police, rejected, "reject", "Missing photos", {})
    assert recipients(session, assessments.APPROVED_NOTICE) == [world.manager.id]
    assert recipients(session, assessments.REJECTED_NOTICE) == [world.landlord.id]
    (notice,) = notices(session, kind=assessments.APPROVED_NOTICE)
    assert notice.params["month"] == "2026-09" and notice.params["stars"] == approved.stars
    assert notice.link == f"/assessments/{approved.id}"
    assert len(notices(session)) == 2
