"""Landlords apply to their community's association; its officers decide in place."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from community.accounts.models import User
from community.places.models import AssociationApplication
from tests.conftest import csrf_from
from tests.factories.places import make_application, make_site
from tests.places.conftest import submission_token


def _applications(session, **where):
    stmt = select(AssociationApplication)
    for key, value in where.items():
        stmt = stmt.where(getattr(AssociationApplication, key) == value)
    return list(session.scalars(stmt))


# --- landlord -----------------------------------------------------------------------


def test_landlord_sees_the_association_of_their_community(client, login_as, world):
    login_as("landlord", area=world.east)
    html = client.get("/associations/").get_data(as_text=True)
    assert world.association.name in html
    assert world.west_association.name not in html
    assert f"/associations/{world.association.id}/apply" in html


def test_landlord_applies_in_place_with_htmx(client, htmx_client, login_as, session, world):
    me = login_as("landlord", area=world.east)
    html = client.get("/associations/").get_data(as_text=True)
    resp = htmx_client.post(
        f"/associations/{world.association.id}/apply",
        data={
            "note": "我有两处房产",
            "csrf_token": csrf_from(html),
            "submission_token": submission_token(html),
        },
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert body.lstrip().startswith('<section id="association-landlord"') and "<html" not in body
    assert 'data-status="pending"' in body
    assert resp.headers["HX-Trigger"] == "association-applied"
    [application] = _applications(session, landlord_id=me["id"])
    assert (application.status, application.note) == ("pending", "我有两处房产")


def test_landlord_applies_without_javascript(client, login_as, session, world):
    me = login_as("landlord", area=world.east)
    html = client.get("/associations/").get_data(as_text=True)
    resp = client.post(
        f"/associations/{world.association.id}/apply", data={"csrf_token": csrf_from(html)}
    )
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'data-status="pending"' in page
    assert len(_applications(session, landlord_id=me["id"])) == 1


def test_applying_twice_is_a_409(client, htmx_client, login_as, english, session, world):
    me = login_as("landlord", area=world.east)
    english()
    html = client.get("/associations/").get_data(as_text=True)
    token = csrf_from(html)
    path = f"/associations/{world.association.id}/apply"
    assert client.post(path, data={"csrf_token": token}).status_code == 303
    resp = htmx_client.post(path, data={"csrf_token": token})
    assert resp.status_code == 409
    assert "already applied" in resp.get_data(as_text=True)
    assert len(_applications(session, landlord_id=me["id"])) == 1


def test_landlord_cannot_apply_to_another_communitys_association(client, login_as, world):
    login_as("landlord", area=world.east)
    token = csrf_from(client.get("/associations/").get_data(as_text=True))
    resp = client.post(
        f"/associations/{world.west_association.id}/apply", data={"csrf_token": token}
    )
    assert resp.status_code == 404
    # Not an association at all
    resp = client.post(f"/associations/{world.company.id}/apply", data={"csrf_token": token})
    assert resp.status_code == 404


def test_other_roles_may_not_apply_and_ids_reveal_nothing(client, login_as, world):
    """Whether the id is an association or not, a non-landlord gets the same 404."""
    login_as("coordinator", org=world.office)
    token = csrf_from(client.get("/").get_data(as_text=True))
    resp = client.post(f"/associations/{world.association.id}/apply", data={"csrf_token": token})
    assert resp.status_code == 404
    other = client.post(f"/associations/{world.office.id}/apply", data={"csrf_token": token})
    missing = client.post("/associations/999999/apply", data={"csrf_token": token})
    assert other.status_code == missing.status_code == 404
    assert _main(resp) == _main(missing)
    assert client.get("/associations/").status_code == 403


def _main(resp) -> str:
    """The page's <main>, without the header (whose language form repeats the path)."""
    html = resp.get_data(as_text=True)
    return html[html.index("<main") : html.index("</main>")]


# --- officer -------------------------------------------------------------------------------


@pytest.fixture
def officer(login_as, world):
    return login_as("association", org=world.association)


@pytest.fixture
def pending(officer, session, world):
    application = make_application(
        session, landlord=world.landlord, association=world.association, note="请审批"
    )
    session.commit()
    return application.id


def test_officer_sees_pending_applications_and_members(client, session, officer, pending, world):
    member = session.get(User, world.west_landlord.id)
    make_application(session, landlord=member, association=world.association, status="approved")
    make_site(
        session, area=world.east, landlord=member, association=world.association, name="会员房"
    )
    session.commit()
    html = client.get("/associations/").get_data(as_text=True)
    assert world.landlord.display_name in html and "请审批" in html
    assert f'id="application-{pending}"' in html
    assert "会员房" in html and 'id="association-landlord"' not in html


def test_officer_approves_in_place(client, htmx_client, session, officer, pending, world):
    site = make_site(
        session,
        area=world.east,
        landlord=world.landlord,
        association=world.association,
        name="张房",
    )
    session.commit()
    html = client.get("/associations/").get_data(as_text=True)
    resp = htmx_client.post(
        f"/associations/applications/{pending}/decide",
        data={"decision": "approve", "csrf_token": csrf_from(html)},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert body.lstrip().startswith('<section id="association-officer"') and "<html" not in body
    assert resp.headers["HX-Trigger"] == "application-decided"
    assert f'id="application-{pending}"' not in body  # no longer waiting
    assert f'href="/sites/{site.id}"' in body  # the new member, with the site
    session.expire_all()
    application = session.get(AssociationApplication, pending)
    assert application.status == "approved" and application.decided_by_id == officer["id"]


def test_officer_declines_without_javascript(client, session, officer, pending):
    html = client.get("/associations/").get_data(as_text=True)
    resp = client.post(
        f"/associations/applications/{pending}/decide",
        data={"decision": "decline", "reason": "不在本村", "csrf_token": csrf_from(html)},
    )
    assert resp.status_code == 303
    session.expire_all()
    application = session.get(AssociationApplication, pending)
    assert (application.status, application.reason) == ("declined", "不在本村")


@pytest.mark.parametrize("htmx", [True, False])
def test_declining_without_a_reason_is_422(
    client, htmx_client, english, session, officer, pending, htmx
):
    english()
    html = client.get("/associations/").get_data(as_text=True)
    resp = (htmx_client if htmx else client).post(
        f"/associations/applications/{pending}/decide",
        data={"decision": "decline", "reason": "", "csrf_token": csrf_from(html)},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert ("<html" in body) is not htmx
    assert "Give a reason to decline" in body and 'aria-invalid="true"' in body
    session.expire_all()
    assert session.get(AssociationApplication, pending).status == "pending"


def test_deciding_twice_is_a_409(client, session, officer, pending):
    token = csrf_from(client.get("/associations/").get_data(as_text=True))
    path = f"/associations/applications/{pending}/decide"
    assert client.post(path, data={"decision": "approve", "csrf_token": token}).status_code == 303
    resp = client.post(path, data={"decision": "decline", "reason": "x", "csrf_token": token})
    assert resp.status_code == 409
    session.expire_all()
    assert session.get(AssociationApplication, pending).status == "approved"


def test_officer_of_another_association_gets_404(client, login_as, session, world):
    login_as("association", org=world.west_association)
    application = make_application(session, landlord=world.landlord, association=world.association)
    session.commit()
    token = csrf_from(client.get("/associations/").get_data(as_text=True))
    resp = client.post(
        f"/associations/applications/{application.id}/decide",
        data={"decision": "approve", "csrf_token": token},
    )
    assert resp.status_code == 404


def test_applicant_cannot_decide_their_own_application(client, login_as, session, world):
    me = login_as("landlord", area=world.east)
    application = make_application(
        session, landlord=session.get(User, me["id"]), association=world.association
    )
    session.commit()
    token = csrf_from(client.get("/associations/").get_data(as_text=True))
    resp = client.post(
        f"/associations/applications/{application.id}/decide",
        data={"decision": "approve", "csrf_token": token},
    )
    assert resp.status_code == 403


def test_association_page_uses_a_fixed_number_of_queries(
    client, session, officer, world, count_queries
):
    def measure():
        with count_queries() as q:
            assert client.get("/associations/").status_code == 200
        return q.count

    def add_member_and_applicant():
        from tests.factories.accounts import make_role_user

        member = make_role_user(session, "landlord", area=world.east)
        make_application(session, landlord=member, association=world.association, status="approved")
        make_site(session, area=world.east, landlord=member, association=world.association)
        applicant = make_role_user(session, "landlord", area=world.east)
        make_application(session, landlord=applicant, association=world.association)
        session.commit()

    add_member_and_applicant()
    small = measure()
    for _ in range(4):
        add_member_and_applicant()
    assert measure() == small


def test_association_fragments_render_alone(app, session, world):
    from community.core.htmx import render_block
    from community.places.forms import ApplyForm

    with app.test_request_context("/"):
        landlord = render_block(
            "places/associations.html",
            "landlord",
            associations=[world.association],
            latest={},
            may_apply={world.association.id},
            apply_forms={world.association.id: ApplyForm(formdata=None)},
        )
        officer = render_block(
            "places/associations.html", "officer", pending=[], decision_forms={}, members=[]
        )
    assert landlord.lstrip().startswith('<section id="association-landlord"')
    assert world.association.name in landlord
    assert officer.lstrip().startswith('<section id="association-officer"')


def test_approving_a_landlord_brings_their_sites_of_the_community_along(
    client, session, officer, pending, world
):
    """A new member's sites in the association's community join it, so the member list
    shows them at once; a site elsewhere, or already in another association, stays."""
    joining = make_site(session, area=world.east, landlord=world.landlord, name="加入的房")
    elsewhere = make_site(session, area=world.west, landlord=world.landlord, name="别处的房")
    taken = make_site(
        session,
        area=world.east,
        landlord=world.landlord,
        association=world.west_association,
        name="已在别会",
    )
    session.commit()
    html = client.get("/associations/").get_data(as_text=True)
    resp = client.post(
        f"/associations/applications/{pending}/decide",
        data={"decision": "approve", "csrf_token": csrf_from(html)},
    )
    assert resp.status_code == 303
    session.expire_all()
    assert joining.association_id == world.association.id
    assert elsewhere.association_id is None
    assert taken.association_id == world.west_association.id
    members = client.get("/associations/").get_data(as_text=True)
    assert "加入的房" in members
