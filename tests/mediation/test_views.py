"""Mediation pages three ways (page, htmx fragment, plain POST) through the whole
workflow: a police officer opens a case, the lead assigns it, a mediator books a
session, records an agreement, prints it, visits, closes; the bad input of the
issue (422 on the field, 409 naming the booking, 404 outside scope, nothing
half-saved); masking, reveal and its audit; the search, my cases, the week, the
start page and the review queue."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from community.accounts.models import User
from community.core.models import AuditEvent
from community.core.timeutil import now_local
from community.extensions import db
from community.mediation import services
from community.mediation.models import MediationCase, MediationSession
from tests.conftest import PASSWORD
from tests.factories.accounts import make_area_tree, make_role_user
from tests.factories.mediation import accept, make_case, mediation_world


@pytest.fixture
def med(app):
    with app.app_context():
        s = db.session
        w = mediation_world(s)
        police = make_role_user(s, "police", area=w["area"], password=PASSWORD)
        coordinator = make_role_user(s, "coordinator", area=w["area"], password=PASSWORD)
        for key in ("lead", "mediator", "second"):
            w[key].password_hash = police.password_hash
        s.commit()
        ids = {k: v.id for k, v in w.items()}
        ids["police"], ids["coordinator"] = police.id, coordinator.id
        names = {
            k: s.get(User, v).username
            for k, v in ids.items()
            if k in ("lead", "mediator", "second", "police", "coordinator")
        }
        return ids, names


def _form(area_id, parties=2, **extra):
    data = {
        "kind": "rent",
        "source": "police",
        "area_id": str(area_id),
        "site_id": "0",
        "summary": "押金不退",
        "amount": "3000",
        "risk": "high",
    }
    people = [("张三", "13800000001", "applicant"), ("李四", "13800000002", "respondent")]
    for i in range(4):
        name, phone, role = people[i] if i < min(parties, 2) else ("", "", "respondent")
        data.update(
            {
                f"parties-{i}-name": name,
                f"parties-{i}-phone": phone,
                f"parties-{i}-role": role,
                f"parties-{i}-document_type": "id_card",
                f"parties-{i}-id_number": "",
                f"parties-{i}-organization": "",
            }
        )
    data.update(extra)
    return data


def _csrf(client, path="/mediation/new"):
    from tests.conftest import csrf_from

    return csrf_from(client.get(path).get_data(as_text=True))


@pytest.fixture
def switch(client, login):
    """switch(username): log out whoever is logged in, log in as `username`."""

    def do(username):
        from tests.conftest import csrf_from

        client.post(
            "/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))}
        )
        login(username)

    return do


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(MediationCase.id)))


def _open(app, ids) -> int:
    with app.app_context():
        s = db.session
        case = make_case(s, area=_area(s, ids), opener=s.get(User, ids["police"]))
        s.commit()
        return case.id


def _area(s, ids):
    from community.accounts.models import Area

    return s.get(Area, ids["area"])


def _accepted(app, ids) -> int:
    with app.app_context():
        s = db.session
        case = make_case(s, area=_area(s, ids), opener=s.get(User, ids["police"]))
        accept(s, case, lead=s.get(User, ids["lead"]), mediator=s.get(User, ids["mediator"]))
        s.commit()
        return case.id


def test_police_opens_a_case_plain_post(app, client, login, med):
    ids, names = med
    login(names["police"])
    page = client.get("/mediation/new")
    assert page.status_code == 200 and 'name="parties-3-phone"' in page.get_data(as_text=True)
    before = _count(app)
    resp = client.post("/mediation/new", data={**_form(ids["area"]), "csrf_token": _csrf(client)})
    assert resp.status_code == 303
    assert _count(app) == before + 1
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "138****0001" in html and "13800000001" not in html and "张三" in html


def test_one_party_is_refused_on_the_form_and_nothing_saved(app, client, login, med):
    ids, names = med
    login(names["police"])
    before = _count(app)
    resp = client.post(
        "/mediation/new", data={**_form(ids["area"], parties=1), "csrf_token": _csrf(client)}
    )
    assert resp.status_code == 422
    assert "at least two parties" in resp.get_data(as_text=True)
    bad = client.post(
        "/mediation/new",
        data={**_form(ids["area"], **{"parties-0-phone": "123"}), "csrf_token": _csrf(client)},
    )
    assert bad.status_code == 422
    phone = re.search(r'<input[^>]*name="parties-0-phone"[^>]*>', bad.get_data(as_text=True))
    assert phone and 'aria-invalid="true"' in phone.group(0)
    assert "A mobile number has 11 digits" in bad.get_data(as_text=True)
    assert _count(app) == before


def test_volunteer_may_not_open(client, login_as, med):
    login_as("volunteer")
    assert client.get("/mediation/new").status_code == 403


def test_lead_accepts_in_place_and_second_accept_is_409_naming_them(
    app, client, htmx_client, login, med
):
    ids, names = med
    case_id = _open(app, ids)
    login(names["lead"])
    page = client.get(f"/mediation/{case_id}")
    assert "Accept the case" in page.get_data(as_text=True)
    token = _csrf(client, f"/mediation/{case_id}")
    data = {"lead_mediator_id": str(ids["mediator"]), "csrf_token": token}
    resp = htmx_client.post(f"/mediation/{case_id}/accept", data=data)
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "<html" not in body and 'id="case-body"' in body
    assert "mediation-changed" in resp.headers["HX-Trigger"]
    assert "HX-Request" in resp.headers.get("Vary", "")
    again = client.post(f"/mediation/{case_id}/accept", data=data)
    assert again.status_code == 409
    with app.app_context():
        lead = db.session.get(User, ids["lead"]).display_name
    assert f"already accepted by {lead}" in again.get_data(as_text=True)


def _start(hour):
    day = now_local().date() + timedelta(days=2)
    return f"{day.isoformat()}T{hour:02d}:00"


def test_booking_a_taken_room_is_409_naming_the_booking(app, client, login, med):
    ids, names = med
    first, second = _accepted(app, ids), _accepted(app, ids)
    login(names["lead"])
    data = {
        "room_id": str(ids["room"]),
        "mediator_id": str(ids["mediator"]),
        "starts_at": _start(9),
        "ends_at": _start(11),
    }
    ok = client.post(
        f"/mediation/{first}/sessions",
        data={**data, "csrf_token": _csrf(client, f"/mediation/{first}")},
    )
    assert ok.status_code == 303
    with app.app_context():
        number = db.session.get(MediationCase, first).number
    late = {**data, "starts_at": _start(10), "ends_at": _start(12)}
    taken = client.post(
        f"/mediation/{second}/sessions",
        data={**late, "csrf_token": _csrf(client, f"/mediation/{second}")},
    )
    assert taken.status_code == 409
    assert number in taken.get_data(as_text=True)
    hours = client.post(
        f"/mediation/{second}/sessions",
        data={
            **data,
            "starts_at": _start(18),
            "ends_at": _start(19),
            "csrf_token": _csrf(client, f"/mediation/{second}"),
        },
    )
    assert hours.status_code == 422 and "is open from 08:30 to 17:30" in hours.get_data(
        as_text=True
    )
    backwards = client.post(
        f"/mediation/{second}/sessions",
        data={
            **data,
            "starts_at": _start(13),
            "ends_at": _start(12),
            "csrf_token": _csrf(client, f"/mediation/{second}"),
        },
    )
    assert backwards.status_code == 422
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(MediationSession.id)).where(MediationSession.case_id == second)
            )
            == 0
        )


def test_agreement_followup_close_and_the_printable_agreement(app, client, login, med):
    ids, names = med
    case_id = _accepted(app, ids)
    login(names["mediator"])
    url = f"/mediation/{case_id}"
    empty = client.post(
        f"{url}/outcome",
        data={"outcome": "agreement", "terms": "", "csrf_token": _csrf(client, url)},
    )
    assert empty.status_code == 422 and "Write the terms" in empty.get_data(as_text=True)
    early = client.post(
        f"{url}/followup", data={"performed": "y", "csrf_token": _csrf(client, url)}
    )
    assert early.status_code == 422 and "no agreement yet" in early.get_data(as_text=True)
    assert client.get(f"{url}/agreement").status_code == 404
    done = client.post(
        f"{url}/outcome",
        data={
            "outcome": "agreement",
            "terms": "房东于12月10日前退还押金2000元",
            "settled_amount": "2000",
            "payment_schedule": "一次付清",
            "csrf_token": _csrf(client, url),
        },
    )
    assert done.status_code == 303
    paper = client.get(f"{url}/agreement")
    text = paper.get_data(as_text=True)
    assert paper.status_code == 200
    assert "People&#39;s mediation agreement" in text or "People's mediation agreement" in text
    assert "张三" in text and "李四" in text and "房东于12月10日前退还押金2000元" in text
    assert "(signature)" in text and "mediation-print.css" in text
    closing = client.post(f"{url}/close", data={"csrf_token": _csrf(client, url)})
    assert closing.status_code == 422 and "follow-up visit before closing" in closing.get_data(
        as_text=True
    )
    visit = client.post(
        f"{url}/followup",
        data={
            "performed": "y",
            "satisfied": "y",
            "note": "已付清",
            "csrf_token": _csrf(client, url),
        },
    )
    assert visit.status_code == 303
    assert client.post(f"{url}/close", data={"csrf_token": _csrf(client, url)}).status_code == 303
    html = client.get(url).get_data(as_text=True)
    assert 'data-testid="closed"' in html and "Follow-up visit" in html
    with app.app_context():
        case = db.session.get(MediationCase, case_id)
        assert case.status == "closed" and case.closed_by_id == ids["mediator"]


def test_reveal_for_police_and_assigned_mediators_only_audited(app, client, login, switch, med):
    ids, names = med
    case_id = _accepted(app, ids)
    url = f"/mediation/{case_id}"
    login(names["coordinator"])
    html = client.get(url).get_data(as_text=True)
    assert "13800000001" not in html and "Reveal" not in html
    assert client.post(
        f"{url}/parties/1/reveal", data={"csrf_token": _csrf(client, url)}
    ).status_code in (403, 404)
    switch(names["police"])
    with app.app_context():
        from community.mediation import queries

        party = queries.parties(db.session, db.session.get(MediationCase, case_id))[0]
        party_id = party.id
    resp = client.post(f"{url}/parties/{party_id}/reveal", data={"csrf_token": _csrf(client, url)})
    assert resp.status_code == 200 and "13800000001" in resp.get_data(as_text=True)
    assert "13800000001" not in client.get(url).get_data(as_text=True)
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "mediation.revealed", AuditEvent.object_id == case_id
            )
        )
        assert event.actor_id == ids["police"] and "13800000001" not in str(event.detail)
    switch(names["second"])  # a member not assigned to the case
    assert (
        client.post(
            f"{url}/parties/{party_id}/reveal", data={"csrf_token": _csrf(client, url)}
        ).status_code
        == 403
    )
    switch(names["mediator"])
    assert (
        client.post(
            f"{url}/parties/{party_id}/reveal", data={"csrf_token": _csrf(client, url)}
        ).status_code
        == 200
    )


def test_case_of_another_area_is_404(app, client, login, switch, med):
    ids, names = med
    with app.app_context():
        other = mediation_world(db.session, area=make_area_tree(db.session)[2])
        case = make_case(db.session, area=other["area"])
        db.session.commit()
        case_id = case.id
    login(names["police"])
    assert client.get(f"/mediation/{case_id}").status_code == 404
    switch(names["lead"])
    assert client.get(f"/mediation/{case_id}").status_code == 404
    token = _csrf(client, "/mediation/")
    assert (
        client.post(f"/mediation/{case_id}/accept", data={"csrf_token": token}).status_code == 404
    )


def test_search_list_fragment_mine_week_start_and_queue(
    app, client, htmx_client, login, switch, med
):
    ids, names = med
    case_id = _accepted(app, ids)
    new_id = _open(app, ids)
    with app.app_context():
        s = db.session
        case = s.get(MediationCase, case_id)
        number = case.number
        start = (now_local() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
        services.book_session(
            s,
            s.get(User, ids["lead"]),
            case,
            services.Booking(
                services_room(s, ids), ids["mediator"], start, start + timedelta(hours=1)
            ),
        )
        s.commit()
    login(names["police"])
    listed = client.get("/mediation/?q=13800000002&status=all").get_data(as_text=True)
    assert number in listed
    fragment = htmx_client.get(f"/mediation/?q={number}")
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert number in fragment.get_data(as_text=True)
    start_page = client.get("/").get_data(as_text=True)
    assert "open cases in my areas" in start_page
    switch(names["lead"])
    assert "1 case to accept" in client.get("/").get_data(as_text=True)
    queue = client.get("/reviews/").get_data(as_text=True)
    assert f"/mediation/{new_id}" in queue
    switch(names["mediator"])
    assert number in client.get("/mediation/mine").get_data(as_text=True)
    week = client.get("/mediation/week").get_data(as_text=True)
    if start.date() - (start.date() - timedelta(days=start.weekday())) < timedelta(days=7):
        nxt = client.get(f"/mediation/week?week={start.date().isoformat()}").get_data(as_text=True)
        assert number in nxt
    assert "Mediation sessions" in week


def services_room(s, ids):
    from community.mediation.models import MediationRoom

    return s.get(MediationRoom, ids["room"])


def test_site_page_panel_lists_disputes_and_offers_a_landlord_to_ask(
    app, client, login, switch, med
):
    from tests.factories.places import make_site

    ids, names = med
    with app.app_context():
        s = db.session
        landlord = make_role_user(s, "landlord", area=_area(s, ids), password=PASSWORD)
        site = make_site(s, area=_area(s, ids), landlord=landlord, name="东村出租屋")
        case = make_case(s, area=_area(s, ids), opener=landlord, site=site)
        s.commit()
        site_id, number, username = site.id, case.number, landlord.username
    login(username)
    html = client.get(f"/sites/{site_id}").get_data(as_text=True)
    assert number in html and "Ask for mediation of a dispute here" in html
    form = client.get(f"/mediation/new?site_id={site_id}&area_id={ids['area']}").get_data(
        as_text=True
    )
    assert re.search(
        rf'<option selected value="{site_id}">|<option value="{site_id}" selected', form
    )
    switch(names["coordinator"])
    assert number in client.get(f"/sites/{site_id}").get_data(as_text=True)


def test_invalid_step_by_htmx_is_the_case_body_with_422(app, htmx_client, client, login, med):
    ids, names = med
    case_id = _accepted(app, ids)
    login(names["mediator"])
    url = f"/mediation/{case_id}"
    resp = htmx_client.post(
        f"{url}/outcome",
        data={"outcome": "agreement", "terms": "", "csrf_token": _csrf(client, url)},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "<html" not in body and 'id="case-body"' in body and "Write the terms" in body
    with app.app_context():
        assert db.session.get(MediationCase, case_id).status == "accepted"
