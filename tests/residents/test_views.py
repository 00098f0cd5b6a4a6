"""Resident pages as users see them: the report form (cascading choice, plain and
htmx), the list (masking, search, police queue), decisions in place and without
JS, bulk verification, reveal, move-out, the building ledger, and the public
self-declaration (no personal data echoed, rate limit, rotated token)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from community.core.models import AuditEvent
from community.core.timeutil import today as _today  # per test: a run may cross midnight
from community.residents.models import Residence
from tests.conftest import PASSWORD, csrf_from
from tests.factories.residents import id_number, make_residence


@pytest.fixture
def as_user(app, client, login):
    """as_user(user): `client` logged in as `user` the first time; later calls give
    a fresh English client logged in as that user."""
    used = []

    def do(user):
        if not used:
            used.append(user)
            login(user)
            return client
        other = app.test_client()
        with other.session_transaction() as sess:
            sess["locale"] = "en"
        token = csrf_from(other.get("/login").get_data(as_text=True))
        data = {"username": user.username, "password": PASSWORD, "csrf_token": token}
        assert other.post("/login", data=data).status_code == 303
        return other

    return do


def _token(client, path="/residents/"):
    return csrf_from(client.get(path).get_data(as_text=True))


def _report_data(world, token, **kw):
    data = {
        "csrf_token": token,
        "room_id": world.room.id,
        "name": "王小明",
        "id_number": id_number(),
        "phone": "13812345678",
        "move_in": _today().isoformat(),
        "hometown": "安徽",
        "employer": "",
    }
    data.update(kw)
    return data


# --- the report form --------------------------------------------------------------


def test_report_form_steps_through_site_building_room_without_js(world, as_user):
    client = as_user(world.landlord)
    page = client.get("/residents/new").get_data(as_text=True)
    assert "青年公寓" in page and 'name="building_id"' not in page
    page = client.get(f"/residents/new?site_id={world.site.id}").get_data(as_text=True)
    assert "A座" in page and 'name="room_id"' not in page
    page = client.get(
        f"/residents/new?site_id={world.site.id}&building_id={world.building.id}"
    ).get_data(as_text=True)
    assert re.search(r'<select[^>]*name="room_id"', page) and ">102<" in page


def test_rooms_fragment_for_htmx(world, as_user, htmx_client):
    as_user(world.landlord)
    resp = htmx_client.get(
        f"/residents/rooms?site_id={world.site.id}&building_id={world.building.id}"
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body and 'id="room-picker"' in body
    assert ">101<" in body and "HX-Request" in resp.headers.get("Vary", "")


def test_a_site_of_someone_else_offers_no_buildings(world, as_user):
    client = as_user(world.landlord)
    page = client.get(f"/residents/new?site_id={world.other_site.id}").get_data(as_text=True)
    assert "远方小区" not in page and 'name="building_id"' not in page


def test_report_link_from_the_building_preselects_the_room(world, as_user):
    client = as_user(world.landlord)
    page = client.get(f"/residents/new?room_id={world.room2.id}").get_data(as_text=True)
    assert re.search(
        rf'<option selected value="{world.room2.id}"|<option value="{world.room2.id}" selected',
        page,
    )
    assert client.get(f"/residents/new?room_id={world.other_room.id}").status_code == 404


def test_plain_report_redirects_to_the_residence(world, as_user, session):
    client = as_user(world.landlord)
    resp = client.post("/residents/new", data=_report_data(world, _token(client, "/residents/new")))
    assert resp.status_code == 303
    residence = session.scalar(select(Residence).order_by(Residence.id.desc()))
    assert resp.headers["Location"].endswith(f"/residents/{residence.id}")
    assert (residence.channel, residence.status) == ("landlord", "pending")


def test_htmx_report_lands_on_the_residence(world, as_user, htmx_client):
    client = as_user(world.manager)
    resp = htmx_client.post(
        "/residents/new", data=_report_data(world, _token(client, "/residents/new"))
    )
    assert resp.status_code == 200 and "/residents/" in resp.headers["HX-Location"]


def test_invalid_report_is_422_with_the_reason_on_the_field(world, as_user, htmx_client):
    client = as_user(world.landlord)
    data = _report_data(world, _token(client, "/residents/new"), id_number="110105194912310021")
    resp = client.post("/residents/new", data=data)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "does not pass the check" in body and "<html" in body
    resp = htmx_client.post("/residents/new", data={**data, "submission_token": "x" * 20})
    assert resp.status_code == 422 and "<html" not in resp.get_data(as_text=True)


def test_report_in_a_room_out_of_reach_is_422(world, as_user):
    client = as_user(world.landlord)
    data = _report_data(world, _token(client, "/residents/new"), room_id=world.other_room.id)
    assert client.post("/residents/new", data=data).status_code == 422


def test_police_report_is_verified(world, as_user, session):
    client = as_user(world.police)
    resp = client.post("/residents/new", data=_report_data(world, _token(client, "/residents/new")))
    assert resp.status_code == 303
    residence = session.scalar(select(Residence).order_by(Residence.id.desc()))
    assert (residence.channel, residence.status) == ("police", "verified")


# --- the list ---------------------------------------------------------------------


def test_list_masks_ids_and_phones_for_every_role(world, as_user, session):
    number = id_number()
    make_residence(session, room=world.room, reporter=world.landlord, number=number)
    session.commit()
    for user in (world.police, world.landlord, world.manager):
        page = as_user(user).get("/residents/?status=all").get_data(as_text=True)
        assert number not in page and f"{number[:6]}********{number[-4:]}" in page
        assert "13812345678" not in page


def test_police_queue_is_pending_oldest_first(world, as_user, session):
    first = make_residence(session, room=world.room, reporter=world.landlord, name="甲一")
    make_residence(
        session,
        room=world.room,
        reporter=world.landlord,
        name="乙二",
        status="verified",
        decider=world.police,
    )
    make_residence(session, room=world.room2, reporter=world.landlord, name="丙三")
    session.commit()
    page = as_user(world.police).get("/residents/").get_data(as_text=True)
    assert "乙二" not in page and page.index("甲一") < page.index("丙三")
    assert first.reference not in page


def test_search_by_exact_id_number_and_by_name_prefix(world, as_user, session):
    number = id_number()
    make_residence(session, room=world.room, reporter=world.landlord, number=number, name="赵六")
    make_residence(session, room=world.room, reporter=world.landlord, name="钱七")
    session.commit()
    client = as_user(world.landlord)
    page = client.get(f"/residents/?status=all&q={number.lower()}").get_data(as_text=True)
    assert "赵六" in page and "钱七" not in page
    page = client.get("/residents/?status=all&q=钱").get_data(as_text=True)
    assert "钱七" in page and "赵六" not in page
    page = client.get(f"/residents/?status=all&q={number[:10]}").get_data(as_text=True)
    assert "赵六" not in page  # never a partial match on the number


def test_other_areas_and_volunteers_see_nothing(world, as_user, session):
    residence = make_residence(session, room=world.room, reporter=world.landlord, name="孙八")
    session.commit()
    client = as_user(world.other_police)
    assert "孙八" not in client.get("/residents/?status=all").get_data(as_text=True)
    assert client.get(f"/residents/{residence.id}").status_code == 404
    client = as_user(world.volunteer)
    assert client.get("/residents/").status_code == 403
    assert client.get(f"/residents/{residence.id}").status_code == 404


@pytest.mark.parametrize("rows", [2, 12])
def test_list_query_budget(world, as_user, session, count_queries, rows):
    for _ in range(rows):
        make_residence(session, room=world.room, reporter=world.landlord)
    session.commit()
    client = as_user(world.police)
    client.get("/residents/")
    with count_queries() as q:
        assert client.get("/residents/").status_code == 200
    assert q.count <= 7, q.statements


# --- decisions ----------------------------------------------------------------------


def test_verify_in_place_with_htmx_then_409(world, as_user, htmx_client, session):
    residence = make_residence(session, room=world.room, reporter=world.landlord)
    session.commit()
    client = as_user(world.police)
    token = _token(client)
    resp = htmx_client.post(f"/residents/{residence.id}/verify", data={"csrf_token": token})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body
    assert f'id="residence-row-{residence.id}"' in body and 'data-status="verified"' in body
    assert "residence-verified" in resp.headers["HX-Trigger"]
    resp = htmx_client.post(f"/residents/{residence.id}/verify", data={"csrf_token": token})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "already decided" in body and "<html" not in body


def test_verify_without_js_goes_back_to_the_queue(world, as_user, session):
    residence = make_residence(session, room=world.room, reporter=world.landlord)
    session.commit()
    client = as_user(world.police)
    resp = client.post(f"/residents/{residence.id}/verify", data={"csrf_token": _token(client)})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/residents/")
    resp = client.post(f"/residents/{residence.id}/verify", data={"csrf_token": _token(client)})
    assert resp.status_code == 409 and "<html" in resp.get_data(as_text=True)


def test_reject_needs_a_reason_inline(world, as_user, htmx_client, session):
    residence = make_residence(session, room=world.room, reporter=world.landlord)
    session.commit()
    client = as_user(world.police)
    token = _token(client)
    resp = htmx_client.post(f"/residents/{residence.id}/reject", data={"csrf_token": token})
    assert resp.status_code == 422 and "Say why" in resp.get_data(as_text=True)
    resp = client.post(
        f"/residents/{residence.id}/reject",
        data={"csrf_token": token, "reason": "房号有误", "next": "show"},
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith(
        f"/residents/{residence.id}"
    )
    session.refresh(residence)
    assert (residence.status, residence.reason) == ("rejected", "房号有误")


def test_landlord_may_not_decide(world, as_user, session):
    residence = make_residence(session, room=world.room, reporter=world.landlord)
    session.commit()
    client = as_user(world.landlord)
    assert (
        client.post(
            f"/residents/{residence.id}/verify", data={"csrf_token": _token(client)}
        ).status_code
        == 403
    )


def test_bulk_verify_in_one_post(world, as_user, session):
    rows = [make_residence(session, room=world.room, reporter=world.landlord) for _ in range(3)]
    session.commit()
    client = as_user(world.police)
    page = client.get("/residents/").get_data(as_text=True)
    assert 'form="bulk-verify"' in page
    resp = client.post(
        "/residents/verify",
        data={"csrf_token": csrf_from(page), "ids": [str(r.id) for r in rows[:2]]},
    )
    assert resp.status_code == 303
    statuses = [session.get(Residence, r.id) for r in rows]
    for r in statuses:
        session.refresh(r)
    assert [r.status for r in statuses] == ["verified", "verified", "pending"]
    assert client.post("/residents/verify", data={"csrf_token": _token(client)}).status_code == 422


# --- one residence: reveal, move-out ---------------------------------------------------


def test_police_reveal_shows_the_number_once_and_audits(world, as_user, htmx_client, session):
    number = id_number()
    residence = make_residence(session, room=world.room, reporter=world.landlord, number=number)
    session.commit()
    client = as_user(world.police)
    page = client.get(f"/residents/{residence.id}").get_data(as_text=True)
    assert number not in page and "Show full number" in page
    resp = client.post(f"/residents/{residence.id}/reveal", data={"csrf_token": csrf_from(page)})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and number in body and "13812345678" in body
    assert resp.headers["Cache-Control"] == "no-store"
    resp = htmx_client.post(
        f"/residents/{residence.id}/reveal", data={"csrf_token": csrf_from(page)}
    )
    assert number in resp.get_data(as_text=True) and "<html" not in resp.get_data(as_text=True)
    assert number not in client.get(f"/residents/{residence.id}").get_data(as_text=True)
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "residence.revealed")
    ).all()
    assert len(events) == 2 and all(e.actor_id == world.police.id for e in events)


def test_landlord_may_not_reveal(world, as_user, session):
    residence = make_residence(session, room=world.room, reporter=world.landlord)
    session.commit()
    client = as_user(world.landlord)
    page = client.get(f"/residents/{residence.id}").get_data(as_text=True)
    assert "Show full number" not in page
    assert (
        client.post(
            f"/residents/{residence.id}/reveal", data={"csrf_token": csrf_from(page)}
        ).status_code
        == 403
    )


def test_move_out_plain_and_htmx(world, as_user, htmx_client, session):
    a = make_residence(
        session,
        room=world.room,
        reporter=world.landlord,
        status="verified",
        decider=world.police,
        move_in=_today() - timedelta(days=5),
    )
    b = make_residence(
        session,
        room=world.room2,
        reporter=world.landlord,
        status="verified",
        decider=world.police,
        move_in=_today() - timedelta(days=5),
    )
    session.commit()
    client = as_user(world.landlord)
    token = _token(client)
    resp = client.post(
        f"/residents/{a.id}/move-out", data={"csrf_token": token, "move_out": "1999-01-01"}
    )
    assert resp.status_code == 422 and "before the move-in date" in resp.get_data(as_text=True)
    resp = client.post(
        f"/residents/{a.id}/move-out", data={"csrf_token": token, "move_out": _today().isoformat()}
    )
    assert resp.status_code == 303
    resp = htmx_client.post(
        f"/residents/{b.id}/move-out", data={"csrf_token": token, "move_out": _today().isoformat()}
    )
    assert resp.status_code == 200 and "residence-moved-out" in resp.headers["HX-Trigger"]
    assert 'data-moved-out="1"' in resp.get_data(as_text=True)


def test_building_page_lists_residents_masked_with_counts(world, as_user, session):
    number = id_number()
    make_residence(
        session,
        room=world.room,
        reporter=world.landlord,
        number=number,
        name="周九",
        status="verified",
        decider=world.police,
    )
    session.commit()
    page = as_user(world.landlord).get(f"/buildings/{world.building.id}").get_data(as_text=True)
    assert "周九" in page and number not in page and number[-4:] in page
    assert "1 verified of 4 counted" in page
    assert f"/residents/new?room_id={world.room2.id}" in page
    page = as_user(world.volunteer).get(f"/buildings/{world.building.id}").get_data(as_text=True)
    assert "周九" not in page and 'id="panel-residents"' not in page


# --- the public self-declaration ----------------------------------------------------------


def _declare(client, world, token=None, **kw):
    url = f"/declare/{token or world.site.qr_token}"
    page = client.get(url)
    data = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "room_id": world.room.id,
        "name": "吴十",
        "id_number": id_number(),
        "phone": "13512345678",
        "move_in": _today().isoformat(),
        "consent": "y",
    }
    data.update(kw)
    return client.post(url, data=data), data


def test_declaration_page_is_chinese_first_and_lists_the_rooms(world, app):
    page = app.test_client().get(f"/declare/{world.site.qr_token}").get_data(as_text=True)
    assert "居住登记" in page and "A座 101" in page and "搬离一年后删除" in page
    assert 'name="consent"' in page


def test_declaration_answers_with_a_reference_and_no_personal_data(world, app, session):
    client = app.test_client()
    resp, data = _declare(client, world)
    assert resp.status_code == 303 and "/declare/status?ref=" in resp.headers["Location"]
    assert data["id_number"] not in resp.headers["Location"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    residence = session.scalar(select(Residence).order_by(Residence.id.desc()))
    assert residence.reference in page and "待核实" in page and "A座 101" in page
    for secret in (data["name"], data["id_number"], data["id_number"][-4:], data["phone"]):
        assert secret not in page
    assert (residence.channel, residence.reporter_id) == ("self_declared", None)


def test_declaration_without_consent_is_422(world, app):
    resp, _ = _declare(app.test_client(), world, consent="")
    assert resp.status_code == 422


def test_status_page_shows_the_reason_of_a_rejection(world, app, session):
    residence = make_residence(
        session,
        room=world.room,
        channel="self_declared",
        status="rejected",
        decider=world.police,
        reason="请填写正确房号",
        name="郑十一",
    )
    session.commit()
    page = (
        app.test_client().get(f"/declare/status?ref={residence.reference}").get_data(as_text=True)
    )
    assert "请填写正确房号" in page and "郑十一" not in page
    assert app.test_client().get("/declare/status?ref=AAAAAAAAAA").status_code == 404


def test_declaration_is_rate_limited(world, app):
    app.config["DECLARE_RATE_LIMIT"] = "2/hour"
    client = app.test_client()
    for _ in range(2):
        resp, _ = _declare(client, world)
        assert resp.status_code == 303
    resp, _ = _declare(client, world)
    assert resp.status_code == 429
    app.config["DECLARE_RATE_LIMIT"] = "10/hour;30/day"


def test_rotated_token_is_404(world, app, as_user):
    old = world.site.qr_token
    client = as_user(world.landlord)
    page = client.get(f"/sites/{world.site.id}/poster").get_data(as_text=True)
    assert (
        client.post(
            f"/sites/{world.site.id}/token", data={"csrf_token": csrf_from(page)}
        ).status_code
        == 303
    )
    assert app.test_client().get(f"/declare/{old}").status_code == 404


def test_the_list_offers_reporting_and_importing_to_who_may(client, login_as):
    login_as("landlord")
    page = client.get("/residents/").get_data(as_text=True)
    assert 'href="/residents/new"' in page and 'href="/residents/import"' in page


def test_status_lookups_are_rate_limited(app, monkeypatch):
    """Trying reference numbers one after another stops at the limit (429)."""
    monkeypatch.setitem(app.config, "DECLARE_STATUS_RATE_LIMIT", "3/hour")
    client = app.test_client()
    answers = [client.get(f"/declare/status?ref=NOSUCH{n:04d}").status_code for n in range(4)]
    assert answers == [404, 404, 404, 429]
