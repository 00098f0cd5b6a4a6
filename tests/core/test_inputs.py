"""Control characters in the URL, the query string or a form: 404, 400 or 422, never 500,
and nothing stored -- on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from community.accounts.models import Area, LoginFailure, Organization
from community.core.inputs import has_control_chars, is_clean_display_text
from community.core.models import SubmissionToken
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_role_user

FORM_MESSAGE = "The form contains invisible control characters"
QUERY_MESSAGE = "The address contains invisible control characters"


@pytest.fixture
def admin(client, login_as):
    return login_as("admin")


def _areas_named(session, name) -> int:
    return session.scalar(select(func.count()).select_from(Area).where(Area.name == name))


@pytest.mark.parametrize(
    "value,refused",
    [
        ("a\x00b", True),
        ("\x01", True),
        ("esc\x1b[31m", True),
        ("del\x7f", True),
        ("c1\x85", True),
        ("c1\x9f", True),
        ("tab\tnewline\ncr\r", False),
        ("东村社区 12-3号", False),
        ("right\u202eleft", False),  # general text: see core.inputs
        ("zero\u200bwidth", False),
    ],
)
def test_which_characters_count_as_control_characters(value, refused):
    assert has_control_chars(value) is refused


@pytest.mark.parametrize(
    "value,clean",
    [
        ("王警官", True),
        ("Zhang Wei", True),
        ("O'Brien-Li", True),
        ("a\u202eb", False),
        ("a\u2066b", False),
        ("a\u200bb", False),
        ("a\u200db", False),
        ("a\ufeffb", False),
        ("a\x00b", False),
        ("a\tb", False),
        ("a\u2028b", False),
    ],
)
def test_display_text_refuses_invisible_and_bidi_characters(value, clean):
    assert is_clean_display_text(value) is clean


def test_nul_in_a_url_token_is_404(client):
    resp = client.get("/plaque/%00")
    assert resp.status_code == 404
    assert "Not found" in resp.get_data(as_text=True)


def test_control_character_in_a_url_token_is_404(client):
    assert client.get("/plaque/abc%1bdef").status_code == 404


def test_nul_in_the_login_username_is_422_and_no_failure_is_counted(client, session):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post(
        "/login", data={"username": "a\x00b", "password": "whatever!", "csrf_token": token}
    )
    assert resp.status_code == 422
    assert FORM_MESSAGE in resp.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0


def test_nul_in_the_login_password_is_422(client, session):
    make_role_user(session, "police", username="officer", password=PASSWORD)
    session.commit()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post(
        "/login", data={"username": "officer", "password": "pw\x00", "csrf_token": token}
    )
    assert resp.status_code == 422


def test_nul_in_the_site_search_is_400_with_the_error_page(client, login_as):
    login_as("police")
    resp = client.get("/sites/", query_string={"q": "a\x00b"})
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "<html" in body and "Bad request" in body and QUERY_MESSAGE in body


def test_nul_in_a_query_parameter_name_is_400(client, login_as):
    login_as("police")
    assert client.get("/sites/?a%00b=1").status_code == 400


def test_htmx_gets_the_400_as_a_fragment(htmx_client, login_as):
    login_as("police")
    resp = htmx_client.get("/sites/", query_string={"q": "\x00"})
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "<html" not in body and 'id="error"' in body


def test_nul_in_a_submission_token_is_422_and_nothing_stored(client, admin, session):
    token = csrf_from(client.get("/admin/areas").get_data(as_text=True))
    resp = client.post(
        "/admin/areas",
        data={
            "name": "空字符区",
            "level": "district",
            "parent_id": "",
            "submission_token": "tok\x00en",
            "csrf_token": token,
        },
    )
    assert resp.status_code == 422
    assert _areas_named(session, "空字符区") == 0
    assert session.scalar(select(func.count()).select_from(SubmissionToken)) == 0


@pytest.mark.parametrize("bad", ["\x00", "\x08", "\x1b", "\x7f", "\x9b"])
def test_control_characters_in_a_form_field_are_422_and_nothing_stored(client, admin, session, bad):
    token = csrf_from(client.get("/admin/orgs").get_data(as_text=True))
    before = session.scalar(select(func.count()).select_from(Organization))
    name = f"派出所{bad}甲"
    resp = client.post(
        "/admin/orgs",
        data={"name": name, "kind": "police_station", "area_id": "1", "csrf_token": token},
    )
    assert resp.status_code == 422
    assert FORM_MESSAGE in resp.get_data(as_text=True)
    # (PostgreSQL cannot even compare with a NUL: count the rows instead)
    assert session.scalar(select(func.count()).select_from(Organization)) == before


def test_control_character_in_a_form_field_name_is_422(client, admin):
    token = csrf_from(client.get("/admin/areas").get_data(as_text=True))
    resp = client.post(
        "/admin/areas",
        data={"name": "x", "level": "district", "na\x00me": "1", "csrf_token": token},
    )
    assert resp.status_code == 422


def test_without_csrf_token_a_nul_form_is_still_400(client, admin):
    resp = client.post("/admin/areas", data={"name": "\x00", "level": "district"})
    assert resp.status_code == 400


def test_tab_newline_and_bidi_characters_pass_in_general_text(client, admin, session):
    """Only control characters are refused everywhere; bidi and zero-width characters
    are refused where they name a person (usernames, display names)."""
    for name in ("甲区\u202e", "乙区\u200b"):
        token = csrf_from(client.get("/admin/areas").get_data(as_text=True))
        resp = client.post(
            "/admin/areas",
            data={"name": name, "level": "district", "parent_id": "", "csrf_token": token},
        )
        assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
        assert _areas_named(session, name) == 1
