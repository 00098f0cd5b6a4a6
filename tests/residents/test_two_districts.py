"""A report in one district never changes what another district sees (issue 17
item 2). A person lives, verified, in district A under the name and phone A's
landlord gave; district B then reports the same ID number with another name and
phone through every channel — landlord, property company, enterprise import, QR
self-declaration, police entry — and B's police verify it. A's police and
landlord still see A's name, reveal A's phone, and A's residence stays active
until A's police record the move-out: they get a notice instead."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from community.core.crypto import mask_phone
from community.core.models import AuditEvent, Notification
from community.core.timeutil import today as _today
from community.residents import queries, services
from community.residents.imports.services import import_file
from community.residents.models import Residence
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import id_number, make_residence
from tests.residents.test_imports import csv_bytes

A_NAME, A_PHONE = "王小明", "13812345678"
B_NAME, B_PHONE = "冒名者", "13700000000"


@pytest.fixture
def district_b(session):
    _, street, community = make_area_tree(session)
    police = make_role_user(
        session, "police", password=PASSWORD, org=make_org(session, area=street)
    )
    landlord = make_role_user(session, "landlord", password=PASSWORD, area=community)
    company = make_org(session, kind="property_company", area=community)
    manager = make_role_user(session, "property_manager", password=PASSWORD, org=company)
    enterprise = make_org(session, kind="enterprise", area=community)
    hr = make_role_user(session, "enterprise", password=PASSWORD, org=enterprise)
    site = make_site(session, area=community, landlord=landlord, company=company, name="乙地公寓")
    site.enterprise_id = enterprise.id
    room = make_room(session, building=make_building(session, site=site, name="B座"), number="9")
    session.commit()
    b = type("B", (), {})()
    b.__dict__.update(locals())
    b.room = queries.get_room(session, room.id)
    return b


@pytest.fixture
def lives_in_a(session, world):
    """The person, verified in district A's room by A's police."""
    number = id_number()
    residence = make_residence(
        session,
        room=world.room,
        reporter=world.landlord,
        name=A_NAME,
        number=number,
        phone=A_PHONE,
        status="verified",
        decider=world.police,
    )
    session.commit()
    return residence, number


def _report_in_b(app, session, b, channel: str, number: str) -> Residence:
    moved = _today() - timedelta(days=1)
    if channel == "enterprise":
        row = [b.site.id, "B座", "9", B_NAME, number, B_PHONE, moved.isoformat(), "", ""]
        assert import_file(session, b.hr, csv_bytes([row])).imported == 1
        session.commit()
    elif channel == "self_declared":
        client = app.test_client()
        url = f"/declare/{b.site.qr_token}"
        page = client.get(url).get_data(as_text=True)
        data = {
            "csrf_token": csrf_from(page),
            "room_id": b.room.id,
            "name": B_NAME,
            "id_number": number,
            "phone": B_PHONE,
            "move_in": moved.isoformat(),
            "consent": "y",
        }
        assert client.post(url, data=data).status_code == 303
    else:
        reporter = {"landlord": b.landlord, "property_manager": b.manager, "police": b.police}
        services.report_residence(
            session,
            reporter[channel],
            queries.get_room(session, b.room.id),
            name=B_NAME,
            id_number=number,
            phone=B_PHONE,
            move_in=moved,
            channel=channel,
        )
        session.commit()
    session.expire_all()
    return session.scalar(
        select(Residence).where(Residence.room_id == b.room.id).order_by(Residence.id.desc())
    )


def _a_sees_only_a(app, login, session, world, a_residence, number):
    """A's police read A's name and reveal A's phone; A's landlord sees A's name
    and A's phone masked; the residence is still active."""
    police = app.test_client()
    token = csrf_from(police.get("/login").get_data(as_text=True))
    police.post(
        "/login",
        data={"username": world.police.username, "password": PASSWORD, "csrf_token": token},
    )
    page = police.get(f"/residents/{a_residence.id}").get_data(as_text=True)
    assert A_NAME in page and B_NAME not in page
    revealed = police.post(
        f"/residents/{a_residence.id}/reveal", data={"csrf_token": csrf_from(page)}
    ).get_data(as_text=True)
    assert number in revealed and A_PHONE in revealed and B_PHONE not in revealed
    listing = police.get(f"/residents/?q={A_NAME}&status=").get_data(as_text=True)
    assert f"/residents/{a_residence.id}" in listing and B_NAME not in listing
    landlord = app.test_client()
    token = csrf_from(landlord.get("/login").get_data(as_text=True))
    landlord.post(
        "/login",
        data={"username": world.landlord.username, "password": PASSWORD, "csrf_token": token},
    )
    page = landlord.get(f"/residents/{a_residence.id}").get_data(as_text=True)
    assert A_NAME in page and mask_phone(A_PHONE) in page and B_NAME not in page
    assert mask_phone(B_PHONE) not in page
    session.expire_all()
    stored = session.get(Residence, a_residence.id)
    assert (stored.status, stored.move_out) == ("verified", None)


def _notices_to(session, user, kind=services.REGISTERED_ELSEWHERE_NOTICE):
    return session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
    ).all()


CHANNELS = ["landlord", "property_manager", "enterprise", "self_declared", "police"]


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_report_in_another_district_changes_nothing_there(
    app, login, session, world, district_b, lives_in_a, channel
):
    a_residence, number = lives_in_a
    b_residence = _report_in_b(app, session, district_b, channel, number)
    assert b_residence.person_id == a_residence.person_id
    assert (b_residence.name, b_residence.phone) == (B_NAME, B_PHONE)
    _a_sees_only_a(app, login, session, world, a_residence, number)
    if channel != "police":
        # Merely reported: A's police hear nothing yet.
        assert b_residence.status == "pending" and _notices_to(session, world.police) == []
        services.verify_residence(session, district_b.police, b_residence)
        session.commit()
    # Verified in B: A's register still says A, and A's police are told.
    _a_sees_only_a(app, login, session, world, a_residence, number)
    (notice,) = _notices_to(session, world.police)
    assert notice.link == f"/residents/{a_residence.id}"
    assert notice.params["room"] == "A座 101" and notice.params["site"] == "青年公寓"
    assert "乙地公寓" not in str(notice.params) and B_NAME not in str(notice.params)
    assert _notices_to(session, district_b.police) == []
    # B's police did not end A's residence; the audit log says what happened.
    moved = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == services.MOVED_OUT,
            AuditEvent.object_id == a_residence.id,
        )
    ).all()
    assert moved == []
    told = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == services.REGISTERED_ELSEWHERE,
            AuditEvent.object_id == a_residence.id,
        )
    )
    assert told.actor_id == district_b.police.id
    # B's register shows B's facts.
    session.expire_all()
    assert session.get(Residence, b_residence.id).status == "verified"


def test_a_police_officer_of_both_areas_ends_the_old_residence_as_before(
    session, world, lives_in_a
):
    """Within the officer's own area a verified move ends the previous residence
    on the new move-in day (no notice: they did it)."""
    a_residence, number = lives_in_a
    moved = _today() - timedelta(days=1)
    new = services.report_residence(
        session,
        world.police,
        world.room2,
        name=A_NAME,
        id_number=number,
        phone=A_PHONE,
        move_in=moved,
        channel="police",
    )
    session.commit()
    session.expire_all()
    assert session.get(Residence, a_residence.id).move_out == moved
    assert session.get(Residence, new.id).status == "verified"
    assert _notices_to(session, world.police) == []


def test_the_other_districts_police_can_end_it_after_the_notice(
    app, session, world, district_b, lives_in_a
):
    a_residence, number = lives_in_a
    _report_in_b(app, session, district_b, "police", number)
    stored = queries.get_residence(session, a_residence.id)
    services.move_out(session, world.police, stored, _today() - timedelta(days=1))
    session.commit()
    active = session.scalars(
        select(Residence.id).where(
            Residence.person_id == a_residence.person_id,
            Residence.status == "verified",
            Residence.move_out.is_(None),
        )
    ).all()
    assert len(active) == 1 and active[0] != a_residence.id
