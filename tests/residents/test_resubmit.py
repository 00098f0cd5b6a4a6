"""A rejected registration's reporter reads the police's reason on the residence
page and corrects and resubmits it there (plain form and htmx); 422 on bad input."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from community.core.crypto import mask_id_number
from community.core.models import AuditEvent
from community.core.timeutil import today as _today  # per test: a run may cross midnight
from community.residents import services
from community.residents.models import Person, Residence
from tests.conftest import csrf_from
from tests.factories.residents import id_number, make_residence


def _rejected(session, world):
    r = make_residence(
        session,
        room=world.room,
        reporter=world.landlord,
        status="rejected",
        decider=world.police,
        reason="Wrong move-in date",
    )
    session.commit()
    return r


def _data(client, r, **kw):
    token = csrf_from(client.get(f"/residents/{r.id}").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "name": "王小明",
        "id_number": id_number(),
        "phone": "13812345678",
        "move_in": (_today() - timedelta(days=2)).isoformat(),
        "hometown": "",
        "employer": "",
    }
    data.update(kw)
    return data


def test_reporter_sees_the_reason_and_the_resubmit_form(client, login, session, world):
    r = _rejected(session, world)
    login(world.landlord)
    html = client.get(f"/residents/{r.id}").get_data(as_text=True)
    assert "Wrong move-in date" in html and 'id="resubmit"' in html


def test_others_do_not_get_the_form(client, login, session, world):
    r = _rejected(session, world)
    login(world.police)
    assert 'id="resubmit"' not in client.get(f"/residents/{r.id}").get_data(as_text=True)


def test_resubmit_without_javascript_makes_it_pending_again(client, login, session, world):
    r = _rejected(session, world)
    login(world.landlord)
    resp = client.post(f"/residents/{r.id}/resubmit", data=_data(client, r))
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "verify it again" in page and 'id="resubmit"' not in page
    session.expire_all()
    stored = session.get(Residence, r.id)
    assert stored.status == "pending" and stored.reason is None
    assert stored.move_in == _today() - timedelta(days=2)


def test_resubmit_via_htmx_answers_the_card(client, htmx_client, login, session, world):
    r = _rejected(session, world)
    login(world.landlord)
    resp = htmx_client.post(f"/residents/{r.id}/resubmit", data=_data(client, r))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<article id="residence-card-{r.id}"')
    assert "residence-resubmitted" in resp.headers["HX-Trigger"]


def test_resubmit_with_a_bad_id_number_is_422(client, htmx_client, login, session, world):
    r = _rejected(session, world)
    login(world.landlord)
    resp = client.post(f"/residents/{r.id}/resubmit", data=_data(client, r, id_number="123"))
    assert resp.status_code == 422 and 'id="resubmit"' in resp.get_data(as_text=True)
    frag = htmx_client.post(f"/residents/{r.id}/resubmit", data=_data(client, r, name=""))
    assert frag.status_code == 422 and "<html" not in frag.get_data(as_text=True)
    session.expire_all()
    assert session.get(Residence, r.id).status == "rejected"


# --- what was stored is kept: only what the police asked to correct is typed ---------


def _stored(session, r):
    session.expire_all()
    stored = session.get(Residence, r.id)
    person = session.get(Person, stored.person_id)
    return stored, person


def test_the_form_shows_the_stored_id_and_phone_masked_never_in_full(client, login, session, world):
    number = id_number()
    r = make_residence(
        session,
        room=world.room,
        reporter=world.landlord,
        status="rejected",
        decider=world.police,
        name="王小明",
        number=number,
        phone="13812345678",
        reason="Wrong move-in date",
    )
    session.commit()
    login(world.landlord)
    html = client.get(f"/residents/{r.id}").get_data(as_text=True)
    form = html[html.index('id="resubmit"') :]
    assert number not in html and "13812345678" not in html
    assert 'name="name"' in form and 'value="王小明"' in form
    assert f'placeholder="{mask_id_number(number)}"' in form
    assert f"Stored as {mask_id_number(number)}. Leave it empty to keep it" in form
    assert 'placeholder="138****5678"' in form and "Stored as 138****5678." in form
    for name in ("id_number", "phone"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', form).group(0)
        assert 'value=""' in tag or "value=" not in tag, tag


def test_resubmit_with_id_and_phone_left_empty_keeps_the_stored_ones(client, login, session, world):
    r = _rejected(session, world)
    before_number, before_phone = session.get(Person, r.person_id).id_number, r.phone
    login(world.landlord)
    moved = (_today() - timedelta(days=3)).isoformat()
    resp = client.post(
        f"/residents/{r.id}/resubmit",
        data=_data(client, r, id_number="", phone="", move_in=moved),
    )
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "verify it again" in page and mask_id_number(before_number) in page
    stored, person = _stored(session, r)
    assert stored.status == "pending" and stored.move_in.isoformat() == moved
    assert (person.id_number, stored.phone, stored.name) == (before_number, before_phone, "王小明")
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == services.RESUBMITTED, AuditEvent.object_id == r.id
        )
    )
    assert event.detail == {"person_id": person.id} and event.actor_id == world.landlord.id


def test_resubmit_via_htmx_with_the_id_left_empty_answers_the_pending_card(
    client, htmx_client, login, session, world
):
    r = _rejected(session, world)
    login(world.landlord)
    resp = htmx_client.post(
        f"/residents/{r.id}/resubmit", data=_data(client, r, id_number="", phone="")
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body
    assert 'data-status="pending"' in body and 'id="resubmit"' not in body
    assert _stored(session, r)[0].status == "pending"


def test_a_typed_id_number_replaces_the_stored_one_and_the_phone_is_kept(
    client, login, session, world
):
    r = _rejected(session, world)
    old_id, old_phone = r.person_id, r.phone
    new_number = id_number()
    login(world.landlord)
    resp = client.post(
        f"/residents/{r.id}/resubmit", data=_data(client, r, id_number=new_number, phone="")
    )
    assert resp.status_code == 303
    stored, person = _stored(session, r)
    assert stored.person_id != old_id
    assert (person.id_number, stored.phone) == (new_number, old_phone)


def test_a_bad_typed_phone_is_422_and_nothing_changes(client, login, session, world):
    r = _rejected(session, world)
    login(world.landlord)
    resp = client.post(
        f"/residents/{r.id}/resubmit", data=_data(client, r, id_number="", phone="12345")
    )
    assert resp.status_code == 422
    assert 'aria-describedby="phone-error"' in resp.get_data(as_text=True)
    stored, person = _stored(session, r)
    assert stored.status == "rejected" and stored.phone == "13812345678"


def test_the_service_keeps_the_stored_values_for_empty_fields(session, world):
    r = _rejected(session, world)
    number, phone = session.get(Person, r.person_id).id_number, r.phone
    services.resubmit_residence(
        session,
        world.landlord,
        r,
        name="王小明",
        id_number="  ",
        phone=None,
        move_in=_today() - timedelta(days=1),
    )
    stored, person = _stored(session, r)
    assert stored.status == "pending" and (person.id_number, stored.phone) == (number, phone)
