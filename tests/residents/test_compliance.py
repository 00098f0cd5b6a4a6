"""The compliance page: each landlord and property company reporting at sites in
scope with timely and late counts and its points balance (the ledger the report
service writes), the proposed yellow card from 5 late reports, and issuing one."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from community.core.timeutil import today as _today  # per test: a run may cross midnight
from community.residents.compliance.models import PointsEntry, YellowCard
from tests.conftest import csrf_from
from tests.factories.residents import make_residence


def _late(session, world, n, channel="landlord"):
    for _ in range(n):
        make_residence(
            session,
            room=world.room,
            reporter=world.landlord if channel == "landlord" else world.manager,
            channel=channel,
            move_in=_today() - timedelta(days=10),
        )


def test_report_service_writes_one_ledger_line_per_report(session, world):
    timely = make_residence(session, room=world.room, reporter=world.landlord)
    _late(session, world, 1)
    _late(session, world, 1, channel="property_manager")
    make_residence(session, room=world.room, reporter=world.police, channel="police")
    entries = session.scalars(select(PointsEntry).order_by(PointsEntry.id)).all()
    assert [(e.user_id, e.organization_id, e.points, e.reason) for e in entries] == [
        (world.landlord.id, None, 1, "timely"),
        (world.landlord.id, None, -2, "late"),
        (None, world.company.id, -2, "late"),
    ]
    assert entries[0].residence_id == timely.id and entries[0].month == _today().replace(day=1)


def test_police_see_counts_balance_and_a_proposed_card(client, login, session, world):
    make_residence(session, room=world.room, reporter=world.landlord)
    _late(session, world, 5)
    _late(session, world, 1, channel="property_manager")
    session.commit()
    login(world.police)
    html = client.get("/compliance/").get_data(as_text=True)
    row = re.search(rf'<tr id="compliance-user-{world.landlord.id}"(.*?)</tr>', html, re.S).group(0)
    assert 'data-proposed="1"' in row and "<details open>" in row
    assert 'data-column="timely">1<' in row and 'data-column="late">5<' in row
    assert 'data-column="balance">-9<' in row
    company = re.search(rf'<tr id="compliance-org-{world.company.id}"(.*?)</tr>', html, re.S)
    assert "data-proposed" not in company.group(0) and "-2" in company.group(0)


def test_other_months_and_other_areas_are_not_shown(client, login, session, world):
    _late(session, world, 1)
    session.commit()
    login(world.other_police)
    assert f"compliance-user-{world.landlord.id}" not in client.get("/compliance/").get_data(
        as_text=True
    )
    resp = client.get("/compliance/?month=2001-01")
    assert resp.status_code == 200 and "compliance-user-" not in resp.get_data(as_text=True)


def _issue(client, world, **data):
    token = csrf_from(client.get("/compliance/").get_data(as_text=True))
    form = {
        "csrf_token": token,
        "target": f"user-{world.landlord.id}",
        "month": _today().strftime("%Y-%m"),
    }
    form.update(data)
    return client.post("/compliance/cards", data=form)


def test_police_issue_a_yellow_card_without_javascript(client, login, session, world):
    _late(session, world, 5)
    session.commit()
    login(world.police)
    resp = _issue(client, world, reason="5 late reports")
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Yellow card issued." in page and 'data-badge="yellow-card"' in page
    card = session.scalar(select(YellowCard))
    assert (card.user_id, card.reason, card.issued_by_id) == (
        world.landlord.id,
        "5 late reports",
        world.police.id,
    )
    again = _issue(client, world, reason="again")
    assert again.status_code == 409
    assert session.scalar(select(func.count()).select_from(YellowCard)) == 1


def test_a_card_without_reason_is_422_and_the_form_stays_open(client, login, session, world):
    _late(session, world, 1)
    session.commit()
    login(world.police)
    resp = _issue(client, world, reason="")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Say why the yellow card is issued." in html
    assert "<details open>" in html
    assert session.scalar(select(func.count()).select_from(YellowCard)) == 0


def test_issue_via_htmx_answers_the_fragment_with_its_event(
    client, htmx_client, login, session, world
):
    _late(session, world, 1)
    session.commit()
    login(world.police)
    token = csrf_from(client.get("/compliance/").get_data(as_text=True))
    resp = htmx_client.post(
        "/compliance/cards",
        data={
            "csrf_token": token,
            "target": f"user-{world.landlord.id}",
            "month": _today().strftime("%Y-%m"),
            "reason": "Late again",
        },
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<section id="compliance"')
    assert "yellow-card-issued" in resp.headers["HX-Trigger"]
    fragment = htmx_client.get("/compliance/")
    assert "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers.get("Vary", "")


def test_a_target_outside_the_police_area_is_refused(client, login, session, world):
    _late(session, world, 1)
    session.commit()
    login(world.other_police)
    resp = _issue(client, world, reason="not mine")
    assert resp.status_code == 422
    assert session.scalar(select(func.count()).select_from(YellowCard)) == 0


def test_coordinator_sees_the_page_but_issues_nothing(client, login, session, world):
    from tests.conftest import PASSWORD
    from tests.factories.accounts import make_org, make_role_user

    office = make_org(session, kind="community_office", area=world.community)
    login(make_role_user(session, "coordinator", password=PASSWORD, org=office))
    assert client.get("/compliance/").status_code == 200
    token = csrf_from(client.get("/compliance/").get_data(as_text=True))
    assert client.post("/compliance/cards", data={"csrf_token": token}).status_code == 403


def test_compliance_page_queries_stay_constant(client, login, session, world, count_queries):
    _late(session, world, 1)
    _late(session, world, 1, channel="property_manager")
    session.commit()
    login(world.police)

    def measure():
        with count_queries() as q:
            assert client.get("/compliance/").status_code == 200
        return q.count

    session.commit()
    small = measure()
    _late(session, world, 3, channel="property_manager")
    session.commit()
    assert measure() == small


# --- issue 15: associations read their community's figures; the card's notice ----------


def _officer(session, area):
    from tests.conftest import PASSWORD
    from tests.factories.accounts import make_org, make_role_user

    association = make_org(session, kind="landlord_association", area=area)
    return make_role_user(session, "association", password=PASSWORD, org=association)


def test_an_association_officer_reads_their_communitys_figures(client, login, session, world):
    """行业自律: the association sees the compliance figures of its community's sites,
    read-only (no card to issue, POST refused), and not another community's."""
    _late(session, world, 5)
    make_residence(session, room=world.other_room, reporter=world.police, channel="police")
    officer = _officer(session, world.community)
    session.commit()
    login(officer)
    resp = client.get("/compliance/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    row = re.search(rf'<tr id="compliance-user-{world.landlord.id}"(.*?)</tr>', html, re.S).group(0)
    assert 'data-column="late">5<' in row and 'data-column="balance">-10<' in row
    assert 'data-badge="proposed"' in row and "<form" not in row
    assert "Issue yellow card" not in html and 'data-testid="read-only"' in html
    token = csrf_from(html)
    refused = client.post(
        "/compliance/cards",
        data={"csrf_token": token, "target": f"user-{world.landlord.id}", "reason": "x"},
    )
    assert refused.status_code == 403
    # The association of another community sees none of it.
    client.post("/logout", data={"csrf_token": token})
    login(_officer(session, world.other_community))
    assert f"compliance-user-{world.landlord.id}" not in client.get("/compliance/").get_data(
        as_text=True
    )


def test_a_yellow_cards_notice_gives_its_reason_and_whom_to_contact(client, login, session, world):
    from community.core.models import Notification
    from community.core.notify import message

    _late(session, world, 5)
    session.commit()
    login(world.police)
    assert _issue(client, world, reason="5 late reports this month.").status_code == 303
    (notice,) = session.scalars(
        select(Notification).where(Notification.user_id == world.landlord.id)
    ).all()
    from community.accounts.models import Membership, Organization

    police_station = session.scalar(
        select(Organization.name)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == world.police.id)
    )
    from flask_babel import force_locale

    with force_locale("en"):
        text = message(notice.kind, notice.params)
    assert text == (
        f"A yellow card was issued to you for {_today().strftime('%Y-%m')}. "
        f"Reason: 5 late reports this month. Questions: contact "
        f"{world.police.display_name} · {police_station}."
    )
    with force_locale("zh_Hans_CN"):
        zh = message(notice.kind, notice.params)
    assert "原因：5 late reports this month。" in zh and world.police.display_name in zh
