"""Deciding in the queue: approve and reject per kind (what is stored), a reject
without reason (422 on the field), a second decision (409, "already decided by"),
the htmx answer (row swapped out, badge out-of-band) and the plain one (303), bulk
approval all or nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from community.assessments.models import Assessment
from community.hazards.models import Hazard
from community.places.models import AssociationApplication
from community.residents.compliance.models import YellowCard, YellowCardProposal
from community.residents.models import Residence
from tests.conftest import csrf_from


def _post(client, path, **data):
    plain = getattr(client, "_client", client)  # the page, not the fragment, carries it
    token = csrf_from(plain.get("/reviews/").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def _reload(session, model, id_):
    session.expire_all()
    return session.get(model, id_)


def test_approve_and_reject_a_registration(client, login, world, session):
    a, b = world.residence(), world.residence()
    session.commit()
    login(world.police)
    assert _post(client, f"/reviews/residence/{a.id}", decision="approve").status_code == 303
    resp = _post(client, f"/reviews/residence/{b.id}", decision="reject", reason="房号不对")
    assert resp.status_code == 303
    assert _reload(session, Residence, a.id).status == "verified"
    rejected = _reload(session, Residence, b.id)
    assert (rejected.status, rejected.reason) == ("rejected", "房号不对")


def test_hazard_approve_closes_and_reject_reopens(client, login, world, session):
    a, b = world.hazard(), world.hazard()
    session.commit()
    login(world.coordinator)
    assert _post(client, f"/reviews/hazard/{a.id}", decision="approve").status_code == 303
    assert (
        _post(client, f"/reviews/hazard/{b.id}", decision="reject", reason="还在").status_code
        == 303
    )
    assert _reload(session, Hazard, a.id).status == "closed"
    reopened = _reload(session, Hazard, b.id)
    assert (reopened.status, reopened.reopen_count) == ("open", 1)


def test_assessment_rejects_in_place_and_approves_on_its_page(client, login, world, session):
    assessment = world.assessment()
    session.commit()
    login(world.police)
    html = client.get("/reviews/").get_data(as_text=True)
    row = re.search(
        rf'<article id="review-assessment-{assessment.id}".*?</article>', html, re.S
    ).group(0)
    assert f'href="/assessments/{assessment.id}"' in row and "Score and approve" in row
    assert (
        _post(client, f"/reviews/assessment/{assessment.id}", decision="approve").status_code == 422
    )
    assert _reload(session, Assessment, assessment.id).status == "submitted"
    resp = _post(client, f"/reviews/assessment/{assessment.id}", decision="reject", reason="缺材料")
    assert resp.status_code == 303
    stored = _reload(session, Assessment, assessment.id)
    assert (stored.status, stored.reason) == ("rejected", "缺材料")


def test_police_decide_association_applications(client, login, world, session):
    a, b = world.application(), world.application()
    session.commit()
    login(world.police)
    assert _post(client, f"/reviews/association/{a.id}", decision="approve").status_code == 303
    assert (
        _post(
            client, f"/reviews/association/{b.id}", decision="reject", reason="不是本社区"
        ).status_code
        == 303
    )
    assert _reload(session, AssociationApplication, a.id).status == "approved"
    declined = _reload(session, AssociationApplication, b.id)
    assert (declined.status, declined.reason, declined.decided_by_id) == (
        "declined",
        "不是本社区",
        world.police.id,
    )


def test_association_officer_decides_too(client, login, world, session):
    a = world.application()
    session.commit()
    login(world.officer)
    assert _post(client, f"/reviews/association/{a.id}", decision="approve").status_code == 303
    assert _reload(session, AssociationApplication, a.id).status == "approved"


def test_proposed_yellow_card_is_issued_with_the_late_reports(client, login, world, session):
    proposal = world.proposal()
    session.commit()
    assert proposal is not None and proposal.user_id == world.landlord.id
    login(world.police)
    assert (
        _post(client, f"/reviews/yellow_card/{proposal.id}", decision="approve").status_code == 303
    )
    card = session.scalar(select(YellowCard).where(YellowCard.user_id == world.landlord.id))
    assert card is not None and "5 late residence reports" in card.reason
    assert _reload(session, YellowCardProposal, proposal.id).status == "issued"


def test_dismissed_proposal_is_not_proposed_again_that_month(client, login, world, session):
    proposal = world.proposal()
    session.commit()
    login(world.police)
    resp = _post(client, f"/reviews/yellow_card/{proposal.id}", decision="reject", reason="已整改")
    assert resp.status_code == 303
    stored = _reload(session, YellowCardProposal, proposal.id)
    assert (stored.status, stored.reason) == ("dismissed", "已整改")
    assert session.scalar(select(YellowCard)) is None
    compliance = client.get("/compliance/").get_data(as_text=True)
    assert "data-proposed" not in compliance
    # A sixth late report that month proposes nothing new.
    world.proposal()
    session.commit()
    assert (
        session.scalar(select(YellowCardProposal.id).where(YellowCardProposal.status == "pending"))
        is None
    )


def test_card_issued_on_the_compliance_page_answers_the_proposal(world, session):
    from community.residents.compliance import services

    proposal = world.proposal()
    services.issue_yellow_card(
        session, world.police, month=proposal.month, reason="迟报", user_id=world.landlord.id
    )
    assert _reload(session, YellowCardProposal, proposal.id).status == "issued"


def test_inspection_due_is_link_only(client, login, world, session):
    site = world.due_site()
    session.commit()
    login(world.police)
    html = client.get("/reviews/?kind=inspection").get_data(as_text=True)
    row = re.search(rf'<article id="review-inspection-{site.id}".*?</article>', html, re.S).group(0)
    assert f'href="/sites/{site.id}"' in row and "Do the inspection" in row and "<form" not in row
    assert _post(client, f"/reviews/inspection/{site.id}", decision="approve").status_code == 404


@pytest.mark.parametrize("kind", ["residence", "hazard", "association", "yellow_card"])
def test_reject_without_reason_is_422_on_the_field(
    client, htmx_client, login, world, session, kind
):
    item = {
        "residence": world.residence,
        "hazard": world.hazard,
        "association": world.application,
        "yellow_card": world.proposal,
    }[kind]()
    session.commit()
    login(world.police)
    resp = _post(client, f"/reviews/{kind}/{item.id}", decision="reject", reason="  ")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "<html" in html and 'aria-invalid="true"' in html
    resp = _post(htmx_client, f"/reviews/{kind}/{item.id}", decision="reject")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "<html" not in html and f'id="review-{kind}-{item.id}"' in html
    assert re.search(r'<details class="reject" open>', html) and 'aria-invalid="true"' in html


def test_second_decision_is_409_and_names_who_decided(client, htmx_client, login, world, session):
    residence = world.residence()
    session.commit()
    login(world.police)
    assert (
        _post(client, f"/reviews/residence/{residence.id}", decision="approve").status_code == 303
    )
    resp = _post(htmx_client, f"/reviews/residence/{residence.id}", decision="reject", reason="x")
    assert resp.status_code == 409
    html = resp.get_data(as_text=True)
    assert f'id="review-residence-{residence.id}"' in html
    assert f"Already decided by {world.police.display_name}" in html
    assert _reload(session, Residence, residence.id).status == "verified"
    plain = _post(client, f"/reviews/residence/{residence.id}", decision="approve")
    assert plain.status_code == 409 and "<html" in plain.get_data(as_text=True)


def test_htmx_decision_swaps_the_row_out_and_counts_the_badge_down(
    htmx_client, login, world, session
):
    a, _b = world.residence(), world.residence()
    session.commit()
    login(world.police)
    resp = _post(htmx_client, f"/reviews/residence/{a.id}", decision="approve")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<html" not in html
    assert re.search(rf'<article id="review-residence-{a.id}"[^>]*data-decided="approve"', html)
    assert re.search(
        r'<span id="nav-badge-reviews-index"[^>]*data-count="1"[^>]*hx-swap-oob="true"', html
    )
    assert 'id="toast"' in html


def test_plain_decision_lands_back_on_the_queue_with_its_filters(client, login, world, session):
    a, b = world.residence(), world.hazard()
    session.commit()
    login(world.police)
    resp = _post(
        client, f"/reviews/residence/{a.id}", decision="approve", next="/reviews/?kind=residence"
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/reviews/?kind=residence")
    page = client.get("/reviews/").get_data(as_text=True)
    assert f"review-residence-{a.id}" not in page and "Approved." in page
    assert re.search(r'id="nav-badge-reviews-index"[^>]*data-count="1"', page)
    # Somewhere else than the queue is never a landing place.
    resp = _post(
        client, f"/reviews/hazard/{b.id}", decision="approve", next="https://evil.example/"
    )
    assert resp.headers["Location"].endswith("/reviews/")


def test_decision_outside_scope_or_of_an_unknown_kind_is_404(client, login, world, session):
    outside = world.residence(room=world.other_room)
    inside = world.residence()
    session.commit()
    login(world.police)
    assert _post(client, f"/reviews/residence/{outside.id}", decision="approve").status_code == 404
    assert _post(client, f"/reviews/nothing/{inside.id}", decision="approve").status_code == 404


def test_bulk_approve_approves_every_selected_row(client, htmx_client, login, world, session):
    r, h, app = world.residence(), world.hazard(), world.application()
    session.commit()
    login(world.police)
    resp = _post(
        htmx_client,
        "/reviews/bulk",
        items=[f"residence-{r.id}", f"hazard-{h.id}", f"association-{app.id}"],
    )
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "3 approved." in html and f"review-residence-{r.id}" not in html
    assert _reload(session, Residence, r.id).status == "verified"
    assert _reload(session, Hazard, h.id).status == "closed"
    assert _reload(session, AssociationApplication, app.id).status == "approved"


def test_bulk_approve_is_all_or_nothing(client, login, world, session):
    r, h = world.residence(), world.hazard()
    session.commit()
    login(world.police)
    assert _post(client, f"/reviews/hazard/{h.id}", decision="approve").status_code == 303
    resp = _post(client, "/reviews/bulk", items=[f"residence-{r.id}", f"hazard-{h.id}"])
    assert resp.status_code == 409
    assert "Only a fixed hazard can be closed" in resp.get_data(as_text=True)
    assert _reload(session, Residence, r.id).status == "pending"
    plain = _post(client, "/reviews/bulk", items=[f"residence-{r.id}"])
    assert plain.status_code == 303
    assert _reload(session, Residence, r.id).status == "verified"


def test_bulk_refuses_items_out_of_scope_and_empty_selections(client, login, world, session):
    outside = world.residence(room=world.other_room)
    site = world.due_site()
    session.commit()
    login(world.police)
    assert _post(client, "/reviews/bulk", items=[f"residence-{outside.id}"]).status_code == 404
    assert _post(client, "/reviews/bulk", items=[f"inspection-{site.id}"]).status_code == 404
    assert _post(client, "/reviews/bulk").status_code == 422


def test_who_sees_an_item_but_may_not_decide_it_gets_403(client, login, world, session):
    """The landlord who reported a registration sees it, but only the police decide."""
    inside = world.residence()
    session.commit()
    login(world.landlord)
    page = client.get(f"/residents/{inside.id}")
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    one = client.post(
        f"/reviews/residence/{inside.id}", data={"csrf_token": token, "decision": "approve"}
    )
    assert one.status_code == 403
    many = client.post(
        "/reviews/bulk", data={"csrf_token": token, "items": [f"residence-{inside.id}"]}
    )
    assert many.status_code == 403
    assert _reload(session, Residence, inside.id).status == "pending"
