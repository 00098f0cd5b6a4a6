"""Admin screens: areas, organizations, users and memberships edited in place."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from community.accounts.models import Area, Membership, Organization, User
from community.extensions import db
from tests.conftest import csrf_from
from tests.factories.accounts import make_area_tree, make_org, make_user


@pytest.fixture
def admin(client, login_as):
    return login_as("admin")


@pytest.fixture
def org(app):
    with app.app_context():
        o = make_org(db.session, kind="volunteer_team", name="星火志愿队")
        make_user(db.session, username="xiaoming", display_name="小明")
        db.session.commit()
        return {"id": o.id}


def _token(client, path="/"):
    return csrf_from(client.get(path).get_data(as_text=True))


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _submission_token(html):
    return re.search(r'name="submission_token" type="hidden" value="([^"]+)"', html).group(1)


def test_admin_creates_area_tree(client, admin, session):
    token = _token(client, "/admin/areas")
    resp = client.post(
        "/admin/areas",
        data={"name": "新区", "level": "district", "parent_id": "", "csrf_token": token},
    )
    assert resp.status_code == 303
    district = session.scalar(select(Area).where(Area.name == "新区"))
    resp = client.post(
        "/admin/areas",
        data={"name": "新街道", "level": "street", "parent_id": district.id, "csrf_token": token},
    )
    assert resp.status_code == 303
    street = session.scalar(select(Area).where(Area.name == "新街道"))
    assert street.path == f"{district.path}{street.id}/"


def test_area_in_the_wrong_parent_is_422_with_a_message(client, admin, session):
    district, street, community = make_area_tree(session)
    session.commit()
    token = _token(client, "/admin/areas")
    resp = client.post(
        "/admin/areas",
        data={"name": "错层", "level": "community", "parent_id": district.id, "csrf_token": token},
    )
    assert resp.status_code == 422
    assert not _count(Area, Area.name == "错层")


def test_admin_creates_organization_once_even_if_submitted_twice(client, admin, session):
    district, street, community = make_area_tree(session)
    session.commit()
    html = client.get("/admin/orgs").get_data(as_text=True)
    data = {
        "name": "平安派出所",
        "kind": "police_station",
        "area_id": street.id,
        "csrf_token": csrf_from(html),
        "submission_token": _submission_token(html),
    }
    first = client.post("/admin/orgs", data=data)
    second = client.post("/admin/orgs", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(Organization, Organization.name == "平安派出所") == 1


def test_duplicate_organization_name_is_422(client, admin, session):
    make_org(session, name="重名单位")
    session.commit()
    html = client.get("/admin/orgs").get_data(as_text=True)
    area_id = session.scalar(select(Area.id).limit(1))
    resp = client.post(
        "/admin/orgs",
        data={
            "name": "重名单位",
            "kind": "enterprise",
            "area_id": area_id,
            "csrf_token": csrf_from(html),
        },
    )
    assert resp.status_code == 422
    assert "already exists" in resp.get_data(as_text=True) or "已存在" in resp.get_data(
        as_text=True
    )


def test_add_member_in_place_with_htmx(client, htmx_client, admin, org, session):
    html = client.get(f"/admin/orgs/{org['id']}").get_data(as_text=True)
    resp = htmx_client.post(
        f"/admin/orgs/{org['id']}/members",
        data={
            "username": "xiaoming",
            "role": "volunteer",
            "csrf_token": csrf_from(html),
            "submission_token": _submission_token(html),
        },
    )
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "<html" not in body
    assert body.lstrip().startswith('<section id="members"')
    assert "小明" in body
    assert resp.headers["HX-Trigger"] == "member-added"
    assert "HX-Request" in resp.headers["Vary"]
    assert _count(Membership, Membership.organization_id == org["id"]) == 1


def test_add_member_without_javascript_redirects(client, admin, org, session):
    html = client.get(f"/admin/orgs/{org['id']}").get_data(as_text=True)
    resp = client.post(
        f"/admin/orgs/{org['id']}/members",
        data={"username": "xiaoming", "role": "volunteer", "csrf_token": csrf_from(html)},
    )
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "小明" in page


def test_double_submitted_member_form_adds_one_membership(client, htmx_client, admin, org, session):
    html = client.get(f"/admin/orgs/{org['id']}").get_data(as_text=True)
    data = {
        "username": "xiaoming",
        "role": "volunteer",
        "csrf_token": csrf_from(html),
        "submission_token": _submission_token(html),
    }
    first = htmx_client.post(f"/admin/orgs/{org['id']}/members", data=data)
    second = htmx_client.post(f"/admin/orgs/{org['id']}/members", data=data)
    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data()
    assert _count(Membership, Membership.organization_id == org["id"]) == 1


@pytest.mark.parametrize(
    "username,role,message",
    [("nobody", "volunteer", "No user has this username"), ("xiaoming", "police", "cannot be")],
)
def test_invalid_member_is_422_in_place(
    client, htmx_client, admin, org, session, username, role, message
):
    html = client.get(f"/admin/orgs/{org['id']}").get_data(as_text=True)
    resp = htmx_client.post(
        f"/admin/orgs/{org['id']}/members",
        data={"username": username, "role": role, "csrf_token": csrf_from(html)},
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "<html" not in body
    assert 'aria-invalid="true"' in body
    assert _count(Membership, Membership.organization_id == org["id"]) == 0


def test_remove_member_in_place(client, htmx_client, admin, org, session):
    from community.accounts.services import add_membership

    user = session.scalar(select(User).where(User.username == "xiaoming"))
    organization = session.get(Organization, org["id"])
    membership = add_membership(session, None, user, "volunteer", organization)
    session.commit()
    token = _token(client, f"/admin/orgs/{org['id']}")
    resp = htmx_client.post(
        f"/admin/orgs/{org['id']}/members/{membership.id}/delete", data={"csrf_token": token}
    )
    assert resp.status_code == 200
    assert "小明" not in resp.get_data(as_text=True)
    assert resp.headers["HX-Trigger"] == "member-removed"
    assert _count(Membership, Membership.organization_id == org["id"]) == 0


def test_member_of_another_org_cannot_be_removed_through_this_one(client, admin, org, session):
    other = make_org(session, kind="volunteer_team")
    from community.accounts.services import add_membership

    user = session.scalar(select(User).where(User.username == "xiaoming"))
    membership = add_membership(session, None, user, "volunteer", other)
    session.commit()
    token = _token(client, f"/admin/orgs/{org['id']}")
    resp = client.post(
        f"/admin/orgs/{org['id']}/members/{membership.id}/delete", data={"csrf_token": token}
    )
    assert resp.status_code == 404
    assert _count(Membership, Membership.id == membership.id) == 1


def test_members_fragment_renders_alone(app, admin, org, session):
    from community.accounts.forms import MemberForm
    from community.core.forms import EmptyForm
    from community.core.htmx import render_block

    with app.test_request_context("/"):
        html = render_block(
            "accounts/admin_org.html",
            "members",
            org=session.get(Organization, org["id"]),
            members=[],
            form=MemberForm(formdata=None),
            delete_form=EmptyForm(),
        )
    assert html.lstrip().startswith('<section id="members"')


def test_admin_creates_user_with_masked_phone(client, admin, session):
    html = client.get("/admin/users").get_data(as_text=True)
    resp = client.post(
        "/admin/users",
        data={
            "username": "newbie",
            "display_name": "新人",
            "phone": "13812345678",
            "password": "long-enough-password",
            "csrf_token": csrf_from(html),
        },
    )
    assert resp.status_code == 303
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "138****5678" in listing and "13812345678" not in listing
    raw = session.execute(db.text("SELECT phone FROM \"user\" WHERE username = 'newbie'")).scalar()
    assert raw and "13812345678" not in raw


def test_short_password_and_bad_phone_are_422(client, admin, session):
    html = client.get("/admin/users").get_data(as_text=True)
    resp = client.post(
        "/admin/users",
        data={
            "username": "shorty",
            "display_name": "x",
            "phone": "12345",
            "password": "short",
            "csrf_token": csrf_from(html),
        },
    )
    assert resp.status_code == 422
    assert not _count(User, User.username == "shorty")


def test_admin_disables_a_user(client, admin, session):
    target = make_user(session, username="leaver")
    session.commit()
    token = _token(client, f"/admin/users/{target.id}")
    resp = client.post(
        f"/admin/users/{target.id}",
        data={"display_name": "离开的人", "phone": "", "csrf_token": token},
    )
    assert resp.status_code == 303
    session.expire_all()
    user = session.get(User, target.id)
    assert user.active is False and user.display_name == "离开的人"


def test_user_page_shows_the_phone_masked_and_keeps_it_when_left_empty(client, admin, session):
    target = make_user(session, username="phoned")
    target.phone = "13812345678"
    session.commit()
    html = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert "13812345678" not in html
    assert 'placeholder="138****5678"' in html
    token = csrf_from(html)
    resp = client.post(
        f"/admin/users/{target.id}",
        data={"display_name": "有电话", "phone": "", "active": "y", "csrf_token": token},
    )
    assert resp.status_code == 303
    session.expire_all()
    assert session.get(User, target.id).phone == "13812345678"
    resp = client.post(
        f"/admin/users/{target.id}",
        data={"display_name": "有电话", "phone": "13900001111", "active": "y", "csrf_token": token},
    )
    session.expire_all()
    assert session.get(User, target.id).phone == "13900001111"
    resp = client.post(
        f"/admin/users/{target.id}",
        data={"display_name": "有电话", "remove_phone": "y", "active": "y", "csrf_token": token},
    )
    assert resp.status_code == 303
    session.expire_all()
    assert session.get(User, target.id).phone is None


def test_admin_cannot_disable_themselves(client, admin, session):
    token = _token(client, f"/admin/users/{admin['id']}")
    resp = client.post(
        f"/admin/users/{admin['id']}", data={"display_name": "me", "csrf_token": token}
    )
    assert resp.status_code == 422
    session.expire_all()
    assert session.get(User, admin["id"]).active is True


def test_admin_lists_use_a_fixed_number_of_queries(client, admin, session, count_queries):
    def measure():
        with count_queries() as q:
            assert client.get("/admin/orgs").status_code == 200
        return q.count

    small = measure()
    for _ in range(10):
        make_org(session)
    session.commit()
    assert measure() == small


def test_admin_gives_and_removes_an_area_role(client, admin, session):
    district, street, community = make_area_tree(session)
    target = make_user(session, username="fangdong")
    session.commit()
    html = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    resp = client.post(
        f"/admin/users/{target.id}/roles",
        data={
            "role": "landlord",
            "area_id": community.id,
            "csrf_token": csrf_from(html),
            "submission_token": _submission_token(html),
        },
    )
    assert resp.status_code == 303
    membership = session.scalar(select(Membership).where(Membership.user_id == target.id))
    assert membership.role == "landlord" and membership.area_id == community.id
    resp = client.post(
        f"/admin/users/{target.id}/roles/{membership.id}/delete",
        data={"csrf_token": csrf_from(html)},
    )
    assert resp.status_code == 303
    assert not _count(Membership, Membership.user_id == target.id)


def test_landlord_role_without_area_is_422(client, admin, session):
    target = make_user(session, username="noarea")
    session.commit()
    html = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    resp = client.post(
        f"/admin/users/{target.id}/roles",
        data={"role": "landlord", "area_id": "", "csrf_token": csrf_from(html)},
    )
    assert resp.status_code == 422
    assert not _count(Membership, Membership.user_id == target.id)
