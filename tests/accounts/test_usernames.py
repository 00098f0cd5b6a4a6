"""Usernames hold ASCII letters, digits, dot, underscore and hyphen (3-40); display names
any script but no control, bidi-override or zero-width characters."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from community.accounts import services
from community.accounts.models import User
from community.core.errors import RuleViolation
from community.seed import ACCOUNTS
from tests.conftest import csrf_from
from tests.factories.accounts import make_user

BAD_USERNAMES = [
    "a\x00b",
    "ab",
    "x" * 41,
    "admin\u202e",
    "ad\u200bmin",
    "adm\u2066in",
    "管理员",
    "user name",
    "user@example",
    "аdmin",  # Cyrillic a
]


def _users(session) -> int:
    return session.scalar(select(func.count()).select_from(User))


def test_demo_usernames_stay_valid(session):
    for username, display_name, *_ in ACCOUNTS:
        assert services.is_valid_username(username), username
        user = services.create_user(session, username, "long-enough-pw", display_name=display_name)
        assert user.username == username and user.display_name == display_name


@pytest.mark.parametrize("username", ["abc", "a.b_c-d", "Officer_07", "x" * 40])
def test_these_usernames_are_accepted(session, username):
    assert services.create_user(session, username, "long-enough-pw").username == username


@pytest.mark.parametrize("username", BAD_USERNAMES)
def test_create_user_refuses_usernames_outside_the_character_set(session, username):
    before = _users(session)
    with pytest.raises(RuleViolation) as refused:
        services.create_user(session, username, "long-enough-pw", display_name="张三")
    assert refused.value.field == "username"
    assert _users(session) == before


@pytest.mark.parametrize("display_name", ["张\u202e三", "张\u200b三", "\u2067张三", "张\x00三"])
def test_create_user_refuses_invisible_characters_in_display_names(session, display_name):
    with pytest.raises(RuleViolation) as refused:
        services.create_user(session, "zhangsan", "long-enough-pw", display_name=display_name)
    assert refused.value.field == "display_name"


def test_display_names_in_any_script_are_fine(session):
    for n, name in enumerate(["王警官", "Ayşe Yılmaz", "Nguyễn Văn An", "O'Brien-Li"]):
        assert make_user(session, username=f"person{n}", display_name=name).display_name == name


@pytest.fixture
def admin(client, login_as):
    return login_as("admin")


@pytest.mark.parametrize(
    "username,display_name,message",
    [
        ("evil\u202etxt.exe", "Evil", "A username has 3 to 40 characters"),
        ("zero\u200bwidth", "Zero", "A username has 3 to 40 characters"),
        ("ok_name", "Bob\u202e", "A display name cannot hold invisible"),
    ],
)
def test_admin_form_refuses_them_with_422_and_a_message(
    client, admin, session, username, display_name, message
):
    before = _users(session)
    html = client.get("/admin/users").get_data(as_text=True)
    resp = client.post(
        "/admin/users",
        data={
            "username": username,
            "display_name": display_name,
            "password": "long-enough-password",
            "csrf_token": csrf_from(html),
        },
    )
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert _users(session) == before


def test_admin_edit_refuses_a_bidi_display_name(client, admin, session):
    target = make_user(session, username="renamed", display_name="原名")
    session.commit()
    html = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    resp = client.post(
        f"/admin/users/{target.id}",
        data={"display_name": "\u202e名新", "active": "y", "csrf_token": csrf_from(html)},
    )
    assert resp.status_code == 422
    session.expire_all()
    assert session.get(User, target.id).display_name == "原名"
