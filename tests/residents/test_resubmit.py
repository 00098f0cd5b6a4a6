"""A rejected registration's reporter reads the police's reason on the residence
page and corrects and resubmits it there (plain form and htmx); 422 on bad input."""

from __future__ import annotations

from datetime import timedelta

from community.core.timeutil import today as _today  # per test: a run may cross midnight
from community.residents.models import Residence
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
