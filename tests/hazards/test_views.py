"""Hazard pages as users see them: report with a photo, the photo's privacy, the
workflow in place with htmx and with plain forms, permissions and the lists."""

from __future__ import annotations

import re
from io import BytesIO
from types import SimpleNamespace

import pytest
from flask import g, render_template
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from community.core import storage, uploads
from community.core.htmx import render_block
from community.core.models import AuditEvent
from community.hazards import queries as hazards_queries
from community.hazards import services
from community.hazards.models import Hazard
from tests.conftest import PASSWORD, HtmxClient, csrf_from
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.hazards import gps_exif, image_bytes, make_hazard
from tests.factories.places import make_site


@pytest.fixture(autouse=True)
def _fresh_csrf_per_request(app, monkeypatch):
    """Requests made while the test holds an app context share its `g`, where
    Flask-WTF caches the CSRF token of whichever client asked first; these tests
    switch between several clients, so forget it before every request."""

    def forget():
        g.pop("csrf_token", None)
        g.pop("csrf_valid", None)

    funcs = app.before_request_funcs.get(None, [])
    monkeypatch.setitem(app.before_request_funcs, None, [forget, *funcs])


@pytest.fixture
def uploads_dir(app, tmp_path, monkeypatch):
    """The local backend's folder (STORAGE_BACKEND=local); the tests read the photos
    through core.storage, so they pass on either backend."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def _stored(name: str) -> bytes:
    """A stored photo's bytes, from whichever storage backend is configured."""
    with storage.open_file(uploads.PHOTOS, name) as f:
        return f.read()


def _no_photo_stored() -> bool:
    return storage.keys(uploads.PHOTOS) == []


class Users(dict):
    """Users of the world, created on first use (password hashing is slow)."""

    def __init__(self, session, makers, **ready):
        super().__init__(**ready)
        self._session, self._makers = session, makers

    def __missing__(self, who):
        user = self[who] = self._makers[who]()
        self._session.commit()
        return user


class World(SimpleNamespace):
    def __getattr__(self, name):
        if name in ROLES_IN_WORLD:
            return self.users[name]
        raise AttributeError(name)


ROLES_IN_WORLD = (
    "landlord",
    "other_landlord",
    "police",
    "other_police",
    "volunteer",
    "coordinator",
    "manager",
    "association",
    "enterprise",
)


@pytest.fixture
def w(app, session, uploads_dir):
    district, street, community = make_area_tree(session)
    other = make_area_tree(session)[2]
    company = make_org(session, kind="property_company", area=community)
    association = make_org(session, kind="landlord_association", area=community)
    landlord = make_role_user(session, "landlord", area=community)
    other_landlord = make_role_user(session, "landlord", area=other)

    def org(kind, area):
        return make_org(session, kind=kind, area=area)

    makers = {
        "police": lambda: make_role_user(session, "police", org=org("police_station", street)),
        "other_police": lambda: make_role_user(session, "police", org=org("police_station", other)),
        "volunteer": lambda: make_role_user(session, "volunteer", area=community),
        "coordinator": lambda: make_role_user(
            session, "coordinator", org=org("community_office", community)
        ),
        "manager": lambda: make_role_user(session, "property_manager", org=company),
        "association": lambda: make_role_user(session, "association", org=association),
        "enterprise": lambda: make_role_user(
            session, "enterprise", org=org("enterprise", community)
        ),
    }
    site = make_site(
        session, area=community, landlord=landlord, company=company, association=association
    )
    other_site = make_site(session, area=other, landlord=other_landlord)
    session.commit()
    return World(
        app=app,
        community=community,
        other=other,
        company=company,
        site=site,
        other_site=other_site,
        users=Users(session, makers, landlord=landlord, other_landlord=other_landlord),
    )


def client_as(app, user):
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["locale"] = "en"  # the tests read the English msgids
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
    )
    assert resp.status_code == 303
    return client


def _token(client, path="/"):
    return csrf_from(client.get(path).get_data(as_text=True))


def _submission_token(html):
    return re.search(r'name="submission_token" type="hidden" value="([^"]+)"', html).group(1)


def _hazard(session, **kw):
    hazard = make_hazard(session, **kw)
    session.commit()
    return hazard


def _reload(session, hazard_id):
    session.expire_all()
    return session.get(Hazard, hazard_id)


def _report(client, site, *, photo=None, description="Bikes charging in the stairwell"):
    html = client.get(f"/sites/{site.id}/hazards/new").get_data(as_text=True)
    data = {
        "description": description,
        "severity": "high",
        "csrf_token": csrf_from(html),
        "submission_token": _submission_token(html),
    }
    if photo is not None:
        stream, filename = photo
        data["photo"] = FileStorage(stream=stream, filename=filename)
    # Encoded in memory: the test client would spool a big body to a temporary
    # file it never closes (a ResourceWarning, which this suite treats as an error).
    boundary, body = encode_multipart(MultiDict(data))
    return client.post(
        f"/sites/{site.id}/hazards/new",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _count(session, model=Hazard):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


# --- reporting and photos -------------------------------------------------------


def test_report_form_is_multipart_with_a_photo_field(w):
    client = client_as(w.app, w.volunteer)
    resp = client.get(f"/sites/{w.site.id}/hazards/new")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file"' in html and 'name="photo"' in html
    assert 'name="submission_token"' in html


def test_volunteer_reports_hazard_photo_is_stored_without_exif_or_gps(w, session, uploads_dir):
    client = client_as(w.app, w.volunteer)
    photo = (BytesIO(image_bytes("JPEG", exif=gps_exif())), "IMG_2024 my house.jpg")
    resp = _report(client, w.site, photo=photo)
    assert resp.status_code == 303
    hazard = session.scalar(select(Hazard).where(Hazard.site_id == w.site.id))
    assert resp.headers["Location"].endswith(f"/hazards/{hazard.id}")
    assert hazard.status == "open" and hazard.severity == "high"
    assert hazard.reported_by_id == w.volunteer.id
    assert (hazard.assignee_user_id, hazard.assignee_org_id) == (w.landlord.id, w.company.id)
    # A random name, nothing of the user's file name.
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}\.jpg", hazard.photo)
    assert "IMG" not in hazard.photo and "house" not in hazard.photo
    stored = _stored(hazard.photo)
    with Image.open(BytesIO(stored)) as img:
        assert img.format == "JPEG"
        exif = img.getexif()
        assert len(exif) == 0
        assert not exif.get_ifd(0x8825)
    assert b"Secret Phone" not in stored
    assert session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "hazard_reported", AuditEvent.object_id == hazard.id)
    )


def test_the_same_report_submitted_twice_creates_one_hazard(w, session):
    client = client_as(w.app, w.police)
    html = client.get(f"/sites/{w.site.id}/hazards/new").get_data(as_text=True)
    data = {
        "description": "Blocked exit",
        "severity": "medium",
        "csrf_token": csrf_from(html),
        "submission_token": _submission_token(html),
    }
    first = client.post(f"/sites/{w.site.id}/hazards/new", data=data)
    second = client.post(f"/sites/{w.site.id}/hazards/new", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(session) == 1


def test_png_photo_is_accepted_and_stays_png(w, session, uploads_dir):
    client = client_as(w.app, w.coordinator)
    resp = _report(client, w.site, photo=(BytesIO(image_bytes("PNG")), "plan.PNG"))
    assert resp.status_code == 303
    hazard = session.scalar(select(Hazard))
    assert hazard.photo.endswith(".png")
    with Image.open(BytesIO(_stored(hazard.photo))) as img:
        assert img.format == "PNG"


def test_photo_over_5_mb_is_422_with_a_clear_message_not_413(w, session, uploads_dir):
    client = client_as(w.app, w.volunteer)
    big = b"\xff\xd8\xff\xe0" + b"\0" * (5 * 1024 * 1024)
    resp = _report(client, w.site, photo=(BytesIO(big), "big.jpg"))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "larger than 5 MB" in html or "5 MB" in html
    assert _count(session) == 0
    assert _no_photo_stored()


def test_text_file_renamed_to_jpg_is_422(w, session):
    client = client_as(w.app, w.volunteer)
    resp = _report(client, w.site, photo=(BytesIO(b"hello, I am text\n" * 50), "photo.jpg"))
    assert resp.status_code == 422
    assert "not a JPEG or PNG" in resp.get_data(as_text=True)
    assert _count(session) == 0


def test_other_file_types_are_422(w, session):
    client = client_as(w.app, w.volunteer)
    resp = _report(client, w.site, photo=(BytesIO(image_bytes("GIF", mode="P", color=1)), "a.gif"))
    assert resp.status_code == 422
    assert "Only JPEG or PNG" in resp.get_data(as_text=True)
    assert _count(session) == 0


def test_missing_description_is_422_and_keeps_the_form(w, session):
    client = client_as(w.app, w.volunteer)
    resp = _report(client, w.site, description="")
    assert resp.status_code == 422
    assert 'aria-invalid="true"' in resp.get_data(as_text=True)
    assert _count(session) == 0


def test_report_form_as_htmx_fragment_and_htmx_success_lands_on_the_hazard(w, session):
    client = client_as(w.app, w.volunteer)
    hx = HtmxClient(client)
    frag = hx.get(f"/sites/{w.site.id}/hazards/new")
    body = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in body and 'id="hazard-form"' in body
    assert "HX-Request" in frag.headers["Vary"]
    resp = hx.post(
        f"/sites/{w.site.id}/hazards/new",
        data={
            "description": "Exit blocked",
            "severity": "low",
            "csrf_token": csrf_from(body),
            "submission_token": _submission_token(body),
        },
    )
    hazard = session.scalar(select(Hazard))
    assert resp.status_code == 200
    assert resp.headers["HX-Location"].endswith(f"/hazards/{hazard.id}")
    assert "hazard-changed" in resp.headers["HX-Trigger"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("police", 200),
        ("coordinator", 200),
        ("volunteer", 200),
        ("landlord", 200),
        ("manager", 200),
        ("association", 403),
        ("enterprise", 404),
        ("other_police", 404),
    ],
)
def test_who_may_report_at_a_site(w, who, status):
    client = client_as(w.app, w.users[who])
    assert client.get(f"/sites/{w.site.id}/hazards/new").status_code == status


def test_photo_is_served_privately_to_those_who_see_the_site(w, session, uploads_dir):
    client = client_as(w.app, w.volunteer)
    assert _report(client, w.site, photo=(BytesIO(image_bytes("PNG")), "x.png")).status_code == 303
    hazard = session.scalar(select(Hazard))
    page = client.get(f"/hazards/{hazard.id}").get_data(as_text=True)
    assert f'src="/hazards/{hazard.id}/photo"' in page
    for who in ("landlord", "manager", "association", "police", "volunteer"):
        resp = client_as(w.app, w.users[who]).get(f"/hazards/{hazard.id}/photo")
        assert resp.status_code == 200, who
        assert resp.mimetype == "image/png"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in resp.headers["Cache-Control"]
        assert resp.get_data() == _stored(hazard.photo)
        resp.close()
    for who in ("enterprise", "other_police", "other_landlord"):
        resp = client_as(w.app, w.users[who]).get(f"/hazards/{hazard.id}/photo")
        assert resp.status_code == 404, who


def test_ids_beyond_the_database_range_are_404_not_500(w, session):
    client = client_as(w.app, w.police)
    huge = 2**40
    for url in (
        f"/hazards/{huge}",
        f"/hazards/{huge}/photo",
        f"/sites/{huge}/hazards/new",
        f"/hazards/?site={huge}",
    ):
        assert client.get(url).status_code == 404, url
    resp = client.post(f"/hazards/{huge}/close", data={"csrf_token": _token(client)})
    assert resp.status_code == 404


def test_hazard_without_photo_has_no_photo_url(w, session):
    hazard = _hazard(session, site=w.site, reporter=w.police)
    client = client_as(w.app, w.police)
    assert "/photo" not in client.get(f"/hazards/{hazard.id}").get_data(as_text=True)
    assert client.get(f"/hazards/{hazard.id}/photo").status_code == 404


# --- the hazard page and the workflow --------------------------------------------


def test_detail_page_shows_history_with_notes_and_reasons(w, session):
    hazard = make_hazard(session, site=w.site, reporter=w.volunteer, actor=w.police, reopened=True)
    services.fix_hazard(session, w.landlord, hazard, "New charging point outside")
    session.commit()
    html = client_as(w.app, w.landlord).get(f"/hazards/{hazard.id}").get_data(as_text=True)
    for text in (
        "Reported",
        "Marked fixed",
        "Reopened",
        "not really fixed",
        "first fix",
        "New charging point outside",
        w.volunteer.display_name,
        w.company.name,
    ):
        assert text in html, text


@pytest.mark.parametrize(
    ("who", "status", "sees"),
    [
        ("landlord", "open", {"fix"}),
        ("manager", "open", {"fix"}),
        ("police", "open", {"fix"}),
        ("volunteer", "open", set()),
        ("coordinator", "fixed", {"close", "reopen"}),
        ("police", "fixed", {"close", "reopen"}),
        ("landlord", "fixed", set()),
        ("police", "closed", set()),
    ],
)
def test_detail_page_offers_only_the_allowed_actions(w, session, who, status, sees):
    hazard = _hazard(session, site=w.site, reporter=w.police, status=status)
    html = client_as(w.app, w.users[who]).get(f"/hazards/{hazard.id}").get_data(as_text=True)
    shown = {a for a in ("fix", "close", "reopen") if f'/hazards/{hazard.id}/{a}"' in html}
    assert shown == sees


def test_assignee_fixes_with_a_plain_form_and_gets_303(w, session):
    hazard = _hazard(session, site=w.site, reporter=w.volunteer)
    client = client_as(w.app, w.landlord)
    token = _token(client, f"/hazards/{hazard.id}")
    resp = client.post(f"/hazards/{hazard.id}/fix", data={"note": "Cleared", "csrf_token": token})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/hazards/{hazard.id}")
    stored = _reload(session, hazard.id)
    assert (stored.status, stored.fix_note) == ("fixed", "Cleared")
    assert "Hazard marked fixed" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_fix_in_place_with_htmx_returns_the_card_and_a_trigger(w, session):
    hazard = _hazard(session, site=w.site, reporter=w.volunteer)
    client = client_as(w.app, w.manager)
    page = client.get(f"/hazards/{hazard.id}").get_data(as_text=True)
    # The form targets the card; the card itself is no hx-target, since the boosted
    # links inside it would inherit it.
    assert f'hx-target="#hazard-card-{hazard.id}"' in page
    assert f'<article id="hazard-card-{hazard.id}" class="hazard-card">' in page
    resp = HtmxClient(client).post(
        f"/hazards/{hazard.id}/fix",
        data={"note": "Replaced wiring", "csrf_token": csrf_from(page)},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith(f'<article id="hazard-card-{hazard.id}"')
    assert "Replaced wiring" in body
    assert "hazard-changed" in resp.headers["HX-Trigger"]
    assert "HX-Request" in resp.headers["Vary"]
    assert _reload(session, hazard.id).status == "fixed"


def test_fix_without_note_is_422_in_place_and_as_a_page(w, session):
    hazard = _hazard(session, site=w.site, reporter=w.volunteer)
    client = client_as(w.app, w.landlord)
    token = _token(client, f"/hazards/{hazard.id}")
    frag = HtmxClient(client).post(f"/hazards/{hazard.id}/fix", data={"csrf_token": token})
    assert frag.status_code == 422
    assert "<html" not in frag.get_data(as_text=True)
    assert 'aria-invalid="true"' in frag.get_data(as_text=True)
    page = client.post(f"/hazards/{hazard.id}/fix", data={"note": "  ", "csrf_token": token})
    assert page.status_code == 422 and "<html" in page.get_data(as_text=True)
    assert _reload(session, hazard.id).status == "open"


def test_police_close_a_fixed_hazard(w, session):
    hazard = _hazard(session, site=w.site, reporter=w.volunteer, actor=w.police, status="fixed")
    client = client_as(w.app, w.police)
    token = _token(client, f"/hazards/{hazard.id}")
    resp = HtmxClient(client).post(f"/hazards/{hazard.id}/close", data={"csrf_token": token})
    assert resp.status_code == 200 and "hazard-changed" in resp.headers["HX-Trigger"]
    stored = _reload(session, hazard.id)
    assert (stored.status, stored.closed_by_id) == ("closed", w.police.id)


def test_coordinator_reopens_with_a_reason_and_plain_post(w, session):
    hazard = _hazard(session, site=w.site, reporter=w.volunteer, actor=w.police, status="fixed")
    client = client_as(w.app, w.coordinator)
    token = _token(client, f"/hazards/{hazard.id}")
    missing = client.post(f"/hazards/{hazard.id}/reopen", data={"csrf_token": token})
    assert missing.status_code == 422
    resp = client.post(
        f"/hazards/{hazard.id}/reopen", data={"reason": "Still blocked", "csrf_token": token}
    )
    assert resp.status_code == 303
    stored = _reload(session, hazard.id)
    assert (stored.status, stored.reopen_count, stored.fix_note) == ("open", 1, None)


@pytest.mark.parametrize(
    ("status", "step", "data"),
    [
        ("open", "close", {}),
        ("open", "reopen", {"reason": "r"}),
        ("closed", "fix", {"note": "n"}),
        ("closed", "reopen", {"reason": "r"}),
        ("fixed", "fix", {"note": "n"}),
    ],
)
def test_invalid_transition_is_409_with_a_message(w, session, status, step, data):
    hazard = _hazard(session, site=w.site, reporter=w.police, status=status)
    client = client_as(w.app, w.police)
    token = _token(client, f"/hazards/{hazard.id}")
    page = client.post(f"/hazards/{hazard.id}/{step}", data={**data, "csrf_token": token})
    assert page.status_code == 409
    assert "can be" in page.get_data(as_text=True)
    frag = HtmxClient(client).post(
        f"/hazards/{hazard.id}/{step}", data={**data, "csrf_token": token}
    )
    assert frag.status_code == 409
    body = frag.get_data(as_text=True)
    assert "<html" not in body and f'id="hazard-card-{hazard.id}"' in body
    assert _reload(session, hazard.id).status == status


def test_volunteer_may_report_but_not_close_or_fix(w, session):
    hazard = _hazard(session, site=w.site, reporter=w.volunteer, actor=w.police, status="fixed")
    open_one = _hazard(session, site=w.site, reporter=w.volunteer)
    client = client_as(w.app, w.volunteer)
    token = _token(client, f"/hazards/{hazard.id}")
    assert client.post(f"/hazards/{hazard.id}/close", data={"csrf_token": token}).status_code == 403
    resp = client.post(f"/hazards/{hazard.id}/reopen", data={"reason": "x", "csrf_token": token})
    assert resp.status_code == 403
    resp = client.post(f"/hazards/{open_one.id}/fix", data={"note": "x", "csrf_token": token})
    assert resp.status_code == 403
    assert _reload(session, hazard.id).status == "fixed"


def test_landlord_may_fix_only_their_own_hazards(w, session):
    theirs = _hazard(session, site=w.other_site, reporter=w.other_police)
    client = client_as(w.app, w.landlord)
    token = _token(client)
    assert client.get(f"/hazards/{theirs.id}").status_code == 404
    resp = client.post(f"/hazards/{theirs.id}/fix", data={"note": "x", "csrf_token": token})
    assert resp.status_code == 404
    # The association sees the site of its member but is not the one to fix it.
    mine = _hazard(session, site=w.site, reporter=w.volunteer)
    assoc = client_as(w.app, w.association)
    resp = assoc.post(f"/hazards/{mine.id}/fix", data={"note": "x", "csrf_token": _token(assoc)})
    assert resp.status_code == 403
    assert _reload(session, theirs.id).status == "open"


def test_landlord_cannot_close_the_hazard_they_fixed(w, session):
    hazard = _hazard(session, site=w.site, reporter=w.volunteer, actor=w.landlord, status="fixed")
    client = client_as(w.app, w.landlord)
    resp = client.post(f"/hazards/{hazard.id}/close", data={"csrf_token": _token(client)})
    assert resp.status_code == 403


# --- lists ------------------------------------------------------------------------


def test_index_tabs_show_only_what_the_detail_page_allows(w, session):
    at_site = _hazard(session, site=w.site, reporter=w.volunteer, description="stairwell bikes")
    elsewhere = _hazard(session, site=w.other_site, reporter=w.other_police, description="far away")
    landlord = client_as(w.app, w.landlord)
    html = landlord.get("/hazards/").get_data(as_text=True)
    assert "stairwell bikes" in html and "far away" not in html
    assert 'aria-current="page">Assigned to me' in html
    volunteer = client_as(w.app, w.volunteer)
    area = volunteer.get("/hazards/?tab=area").get_data(as_text=True)
    assert "stairwell bikes" in area and "far away" not in area
    reported = volunteer.get("/hazards/?tab=reported").get_data(as_text=True)
    assert "stairwell bikes" in reported
    # The other police liaison reported it, but the volunteer cannot see that site.
    assert volunteer.get(f"/hazards/{elsewhere.id}").status_code == 404
    assert at_site.id != elsewhere.id


def test_index_filters_by_status_and_site(w, session):
    _hazard(session, site=w.site, reporter=w.police, description="still open")
    _hazard(session, site=w.site, reporter=w.police, description="done and closed", status="closed")
    client = client_as(w.app, w.police)
    default = client.get("/hazards/").get_data(as_text=True)
    assert "still open" in default and "done and closed" not in default
    closed = client.get("/hazards/?status=closed").get_data(as_text=True)
    assert "done and closed" in closed and "still open" not in closed
    assert "still open" in client.get("/hazards/?status=nonsense&tab=nonsense").get_data(
        as_text=True
    )
    at_site = client.get(f"/hazards/?site={w.site.id}&status=all").get_data(as_text=True)
    assert "still open" in at_site and "done and closed" in at_site
    assert client.get(f"/hazards/?site={w.other_site.id}").status_code == 404


def test_index_htmx_returns_the_list_fragment(w, session):
    _hazard(session, site=w.site, reporter=w.police, description="fragment row")
    resp = HtmxClient(client_as(w.app, w.police)).get("/hazards/?status=all")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in body and body.lstrip().startswith('<section id="hazard-list"')
    assert "fragment row" in body
    assert "HX-Request" in resp.headers["Vary"]


def test_index_is_paginated(w, session):
    for i in range(27):
        make_hazard(session, site=w.site, reporter=w.police, description=f"numbered {i:02d}")
    session.commit()
    client = client_as(w.app, w.police)
    first = client.get("/hazards/").get_data(as_text=True)
    second = client.get("/hazards/?page=2").get_data(as_text=True)
    assert "numbered 26" in first and "numbered 00" not in first
    assert "numbered 00" in second and "numbered 26" not in second
    assert "page=2" in first


def _measure(session, count_queries, client, url):
    """Queries of one request, starting from an empty identity map each time (the
    test shares its session with the requests)."""
    session.expire_all()
    with count_queries() as q:
        resp = client.get(url)
    assert resp.status_code == 200
    return q, resp.get_data(as_text=True)


def test_index_query_count_does_not_grow_with_rows(w, session, count_queries):
    def fill(n):
        for _ in range(n):
            make_hazard(session, site=w.site, reporter=w.volunteer)
            other = make_site(session, area=w.community, company=w.company)
            make_hazard(session, site=other, reporter=w.volunteer)
        session.commit()

    for who in ("landlord", "manager", "volunteer", "police"):
        client = client_as(w.app, w.users[who])
        fill(2)
        small, _ = _measure(session, count_queries, client, "/hazards/?status=all")
        fill(10)
        large, html = _measure(session, count_queries, client, "/hazards/?status=all")
        assert html.count('id="hazard-row-') > 4
        assert large.count == small.count, (who, small.statements, large.statements)
        assert large.count <= 6, large.statements


def test_detail_page_query_count_does_not_grow_with_history(w, session, count_queries):
    hazard = make_hazard(session, site=w.site, reporter=w.volunteer, actor=w.police)
    session.commit()
    url = f"/hazards/{hazard.id}"
    client = client_as(w.app, w.police)
    short, _ = _measure(session, count_queries, client, url)
    for _ in range(5):
        services.fix_hazard(session, w.police, hazard, "again")
        services.reopen_hazard(session, w.police, hazard, "not yet")
    session.commit()
    long, html = _measure(session, count_queries, client, url)
    assert html.count("not yet") == 5
    # 5, and 2 for the people an open hazard may be assigned to (police).
    assert long.count == short.count <= 7, long.statements


# --- fragments alone, and the site panel -----------------------------------------


def test_each_fragment_block_renders_alone(w, session):
    hazard = _hazard(session, site=w.site, reporter=w.volunteer, actor=w.police, status="fixed")
    from flask_login import login_user

    from community.hazards import views
    from community.hazards.forms import HazardForm

    with w.app.test_request_context("/"):
        login_user(w.police)
        ctx = {**views.LABELS, "photo_max_mb": "5"}
        card = render_block(
            "hazards/show.html",
            "hazard_card",
            hazard=hazards_queries.get_hazard(session, hazard.id),
            history=[],
            actions={"fix": False, "assign": False, "close": True, "reopen": True},
            unassigned=False,
            people_total=0,
            people_shown=0,
            people_search="",
            people_searchable=False,
            fix_form=views.FixForm(formdata=None),
            assign_form=views.AssignForm(formdata=None),
            reopen_form=views.ReopenForm(formdata=None),
            close_form=views.EmptyForm(formdata=None),
            conflict=None,
            **ctx,
        )
        assert card.lstrip().startswith(f'<article id="hazard-card-{hazard.id}"')
        page = hazards_queries.list_hazards(session, w.police)
        listing = render_block(
            "hazards/index.html",
            "hazard_list",
            result=page,
            form=views.HazardFilterForm(formdata=None),
            tabs=["area"],
            tab_labels=views.tab_labels_for(True),
            tab="area",
            status_filter="",
            site_filter=None,
            **ctx,
        )
        assert listing.lstrip().startswith('<section id="hazard-list"')
        form = render_block(
            "hazards/new.html", "hazard_form", site=w.site, form=HazardForm(), **ctx
        )
        assert form.lstrip().startswith('<section id="hazard-form"')


def test_site_panel_lists_open_and_fixed_hazards_and_offers_a_report_link(w, session):
    from flask_login import login_user

    from community.places.panels import site_panels

    _hazard(session, site=w.site, reporter=w.volunteer, description="loose wiring")
    _hazard(session, site=w.site, reporter=w.volunteer, description="old one", status="closed")
    for who, can_report in (("volunteer", True), ("landlord", True), ("association", False)):
        with w.app.test_request_context("/"):
            user = w.users[who]
            login_user(user)
            panels = [
                p for p in site_panels(session, user, w.site) if p.template == "hazards/_panel.html"
            ]
            assert len(panels) == 1
            html = render_template(panels[0].template, panel=panels[0], site=w.site)
        assert "loose wiring" in html and "old one" not in html
        assert re.search(r"<small>\D*\b1\b\D*</small></h2>", html)  # the count
        assert (f"/sites/{w.site.id}/hazards/new" in html) is can_report


def test_site_page_shows_the_hazards_panel(w, session):
    _hazard(session, site=w.site, reporter=w.volunteer, description="panel on the site page")
    html = client_as(w.app, w.volunteer).get(f"/sites/{w.site.id}").get_data(as_text=True)
    assert "panel on the site page" in html
    assert f"/sites/{w.site.id}/hazards/new" in html


def test_the_area_tab_speaks_of_an_area_only_to_roles_with_one(w):
    """A landlord's "area" tab lists hazards at their own sites: it says so."""
    landlord_page = client_as(w.app, w.landlord).get("/hazards/").get_data(as_text=True)
    police_page = client_as(w.app, w.police).get("/hazards/").get_data(as_text=True)
    assert "At my sites" in landlord_page and "In my area" not in landlord_page
    assert "In my area" in police_page and "At my sites" not in police_page


def test_a_hazard_at_a_site_nobody_runs_is_assigned_by_the_police(w, session):
    """Neither landlord nor company: the reporter is told, the hazard says it is
    unassigned, and the police (or coordinator) of the area assign it to someone who
    sees the site; that person may then fix it. Others cannot be named."""
    from tests.factories.places import make_site as place

    orphan = place(session, area=w.community, name="无人管理的房子")
    session.commit()
    volunteer = client_as(w.app, w.volunteer)
    resp = _report(volunteer, orphan)
    assert resp.status_code == 303
    page = volunteer.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Nobody runs this site yet" in page
    hazard = session.scalar(select(Hazard).where(Hazard.site_id == orphan.id))
    police = client_as(w.app, w.police)
    card = police.get(f"/hazards/{hazard.id}").get_data(as_text=True)
    assert 'data-testid="unassigned"' in card and f"/hazards/{hazard.id}/assign" in card
    token = csrf_from(card)
    # The form offers the landlord by name, not someone of another area.
    assert f'<option value="{w.landlord.id}">' in card
    assert f'<option value="{w.other_landlord.id}">' not in card
    refused = police.post(
        f"/hazards/{hazard.id}/assign",
        data={"assignee": str(w.other_landlord.id), "csrf_token": token},
    )
    assert refused.status_code == 422
    assert "Choose someone from the list" in refused.get_data(as_text=True)
    done = police.post(
        f"/hazards/{hazard.id}/assign", data={"assignee": str(w.landlord.id), "csrf_token": token}
    )
    assert done.status_code == 303
    assert _reload(session, hazard.id).assignee_user_id == w.landlord.id
    landlord = client_as(w.app, w.landlord)
    fixed = landlord.post(
        f"/hazards/{hazard.id}/fix",
        data={"note": "cleared", "csrf_token": csrf_from(landlord.get("/").get_data(as_text=True))},
    )
    assert fixed.status_code == 303
    assert _reload(session, hazard.id).status == "fixed"


def test_only_the_police_and_coordinators_of_the_area_assign(w, session):
    hazard = _hazard(session, site=w.site, reporter=w.police)
    for who in ("volunteer", "landlord", "manager"):
        client = client_as(w.app, w.users[who])
        token = csrf_from(client.get("/").get_data(as_text=True))
        resp = client.post(
            f"/hazards/{hazard.id}/assign", data={"assignee": "1", "csrf_token": token}
        )
        assert resp.status_code == 403, who


def test_the_photo_is_decoded_before_anything_is_written(w, session, uploads_dir, monkeypatch):
    """No write (so no SQLite write lock) is held while the photo is decoded: the
    submission token and the hazard are written after, in the request's one commit."""
    from sqlalchemy import event

    writes: list[str] = []
    seen_at_decode: list[int] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement.split()[0:3][-1])

    real_clean = uploads.clean_image

    def watching_clean(*args, **kwargs):
        seen_at_decode.append(len(writes))
        return real_clean(*args, **kwargs)

    monkeypatch.setattr(uploads, "clean_image", watching_clean)
    engine = session.get_bind()
    client = client_as(w.app, w.volunteer)
    event.listen(engine, "before_cursor_execute", before)
    try:
        resp = _report(client, w.site, photo=(BytesIO(image_bytes("JPEG")), "p.jpg"))
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert resp.status_code == 303
    assert seen_at_decode == [0], f"writes before decoding: {writes}"
    assert writes, "the hazard and the token were written after"


# --- issue 15: landlords report, a choice of assignees, a photo of the fix ---------


def _notices(session, user):
    from community.core.models import Notification

    session.expire_all()
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id)))


@pytest.mark.parametrize("who", ["landlord", "manager"])
def test_the_landlord_and_the_property_manager_report_at_their_own_site(w, session, who):
    """They are the first to see a hazard: the site page links the form, the report
    lands on the hazard, assigned to whoever runs the site; nobody is told of their
    own report."""
    other = w.landlord if who == "manager" else w.manager
    client = client_as(w.app, w.users[who])
    site_page = client.get(f"/sites/{w.site.id}").get_data(as_text=True)
    assert f"/sites/{w.site.id}/hazards/new" in site_page
    resp = _report(client, w.site, description="Exit blocked by boxes")
    assert resp.status_code == 303
    hazard = session.scalar(select(Hazard).where(Hazard.site_id == w.site.id))
    assert hazard.reported_by_id == w.users[who].id and hazard.status == "open"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Exit blocked by boxes" in page
    assert _notices(session, w.users[who]) == []
    assert len(_notices(session, other)) == 1
    # Not at somebody else's site.
    assert client.get(f"/sites/{w.other_site.id}/hazards/new").status_code == 404


def test_the_assign_form_offers_people_by_name_role_and_organisation(w, session):
    """A select of the people who may be assigned (the service's rule): names with
    their roles and organisations; nobody of another area, nobody disabled."""
    coordinator, manager = w.coordinator, w.manager
    disabled = make_role_user(session, "landlord", area=w.community)
    disabled.active = False
    session.commit()
    hazard = _hazard(session, site=w.site, reporter=w.volunteer)
    html = client_as(w.app, w.police).get(f"/hazards/{hazard.id}").get_data(as_text=True)
    assert 'name="assignee"' in html and 'name="username"' not in html
    options = dict(re.findall(r'<option value="(\d+)">([^<]*)</option>', html))
    assert set(options) == {str(w.landlord.id), str(coordinator.id), str(manager.id)}
    assert (
        options[str(manager.id)] == f"{manager.display_name} · Property manager · {w.company.name}"
    )
    assert options[str(w.landlord.id)] == f"{w.landlord.display_name} · Landlord"
    # Few people: no search box.
    assert 'name="who"' not in html


def test_a_long_list_of_assignees_is_searchable_with_and_without_htmx(w, session, monkeypatch):
    from community.hazards import views

    monkeypatch.setattr(views, "ASSIGNEE_SEARCH_FROM", 2)
    assert w.manager and w.coordinator  # four people in the area
    extra = make_role_user(session, "landlord", area=w.community)
    extra.display_name = "张三房东"
    session.commit()
    hazard = _hazard(session, site=w.site, reporter=w.volunteer)
    client = client_as(w.app, w.police)
    html = client.get(f"/hazards/{hazard.id}").get_data(as_text=True)
    assert 'name="who"' in html
    assert f'hx-get="/hazards/{hazard.id}/assignees"' in html
    # Without JavaScript the search reloads the page with fewer choices.
    page = client.get(f"/hazards/{hazard.id}?who=张三").get_data(as_text=True)
    assert f'<option value="{extra.id}">' in page
    assert f'<option value="{w.landlord.id}">' not in page
    assert 'value="张三"' in page
    # With htmx only the list of people is swapped.
    frag = HtmxClient(client).get(f"/hazards/{hazard.id}/assignees?who={w.company.name}")
    body = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<div id="assignee-field-{hazard.id}">')
    assert f'<option value="{w.manager.id}">' in body
    assert f'<option value="{extra.id}">' not in body
    nobody = HtmxClient(client).get(f"/hazards/{hazard.id}/assignees?who=nobody-like-this")
    assert "Nobody matches" in nobody.get_data(as_text=True)
    # Only those who assign may list the people.
    landlord = client_as(w.app, w.landlord)
    assert landlord.get(f"/hazards/{hazard.id}/assignees").status_code == 403


def test_assigning_a_chosen_person_as_htmx_and_refusing_a_missing_choice(w, session):
    assert w.manager  # exists when the hazard is reported (the company's notice)
    hazard = _hazard(session, site=w.site, reporter=w.volunteer)
    client = client_as(w.app, w.coordinator)
    token = _token(client, f"/hazards/{hazard.id}")
    empty = HtmxClient(client).post(
        f"/hazards/{hazard.id}/assign", data={"assignee": "", "csrf_token": token}
    )
    assert empty.status_code == 422 and "<html" not in empty.get_data(as_text=True)
    resp = HtmxClient(client).post(
        f"/hazards/{hazard.id}/assign", data={"assignee": str(w.manager.id), "csrf_token": token}
    )
    assert resp.status_code == 200
    assert "hazard-changed" in resp.headers["HX-Trigger"]
    body = resp.get_data(as_text=True)
    facts = body[body.index('<dl class="hazard-facts">') : body.index("</dl>")]
    assert w.manager.display_name in facts and w.landlord.display_name not in facts
    assert _reload(session, hazard.id).assignee_user_id == w.manager.id
    assert f"Assigned to {w.manager.display_name}" in body  # in the history
    assert len(_notices(session, w.manager)) == 2  # the company's, and this one


def _fix(client, hazard, *, photo=None, note="Boxes removed"):
    html = client.get(f"/hazards/{hazard.id}").get_data(as_text=True)
    data = {"note": note, "csrf_token": csrf_from(html)}
    if photo is not None:
        data["photo"] = FileStorage(stream=photo[0], filename=photo[1])
    boundary, body = encode_multipart(MultiDict(data))
    return client.post(
        f"/hazards/{hazard.id}/fix",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_marking_fixed_with_a_photo_shows_it_beside_the_first(w, session, uploads_dir):
    client = client_as(w.app, w.volunteer)
    _report(client, w.site, photo=(BytesIO(image_bytes("JPEG")), "before.jpg"))
    hazard = session.scalar(select(Hazard).where(Hazard.site_id == w.site.id))
    landlord = client_as(w.app, w.landlord)
    form = landlord.get(f"/hazards/{hazard.id}").get_data(as_text=True)
    fix_form = form[form.index(f'action="/hazards/{hazard.id}/fix"') - 200 :]
    assert 'enctype="multipart/form-data"' in fix_form[:600]
    resp = _fix(landlord, hazard, photo=(BytesIO(image_bytes("PNG", exif=None)), "after.png"))
    assert resp.status_code == 303
    stored = _reload(session, hazard.id)
    assert stored.status == "fixed" and stored.fix_photo and stored.fix_photo != stored.photo
    page = landlord.get(f"/hazards/{hazard.id}").get_data(as_text=True)
    assert f"/hazards/{hazard.id}/photo" in page and f"/hazards/{hazard.id}/fix-photo" in page
    assert "After the fix" in page and "When reported" in page
    assert "Marked fixed · with a photo" in " ".join(page.split())
    served = client.get(f"/hazards/{hazard.id}/fix-photo")
    assert served.status_code == 200 and served.mimetype == "image/png"
    served.close()
    assert (
        client_as(w.app, w.other_police).get(f"/hazards/{hazard.id}/fix-photo").status_code == 404
    )
    # Reopened: the fix (and its photo) no longer stands.
    police = client_as(w.app, w.police)
    token = _token(police, f"/hazards/{hazard.id}")
    police.post(
        f"/hazards/{hazard.id}/reopen", data={"reason": "still blocked", "csrf_token": token}
    )
    assert _reload(session, hazard.id).fix_photo is None
    assert client.get(f"/hazards/{hazard.id}/fix-photo").status_code == 404


def test_a_fix_photo_follows_the_upload_rules(w, session, uploads_dir):
    hazard = _hazard(session, site=w.site, reporter=w.volunteer)
    landlord = client_as(w.app, w.landlord)
    resp = _fix(landlord, hazard, photo=(BytesIO(b"not an image"), "after.jpg"))
    assert resp.status_code == 422
    assert _reload(session, hazard.id).status == "open"
    frag = HtmxClient(landlord).post(
        f"/hazards/{hazard.id}/fix",
        data={"note": "x", "photo": (BytesIO(b"GIF89a"), "a.gif"), "csrf_token": _token(landlord)},
        content_type="multipart/form-data",
    )
    assert frag.status_code == 422 and "Only JPEG or PNG" in frag.get_data(as_text=True)
