"""A 纠纷调解 duty's page lists the mediation sessions its volunteer (a member of a
mediation team) staffed in the duty's time window, each linking to its case; a
session outside the window or cancelled is not listed, nor shown to a volunteer
without a place on that duty, nor on a duty of another kind."""

from __future__ import annotations

from datetime import datetime, timedelta

from community.extensions import db
from community.mediation import services
from community.mediation.models import MediationSession
from tests.conftest import PASSWORD
from tests.factories.accounts import make_role_user
from tests.factories.duty import make_claim, make_coordinator, make_duty, make_volunteer
from tests.factories.mediation import accept, make_case, mediation_world


def _session(s, case, room, mediator, starts, hours=1, status="booked"):
    s.add(
        MediationSession(
            case_id=case.id,
            room_id=room.id,
            mediator_id=mediator.id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=hours),
            status=status,
        )
    )


def test_mediation_duty_lists_the_sessions_staffed(app, client, login, frozen_clock):
    frozen_clock("2026-11-10 10:00")
    with app.app_context():
        s = db.session
        world = mediation_world(s)
        police = make_role_user(s, "police", area=world["area"])
        coordinator = make_coordinator(s, area=world["area"])
        volunteer = make_volunteer(s, area=world["area"], password=PASSWORD)
        other = make_volunteer(s, area=world["area"], password=PASSWORD)
        for member in (volunteer, other):
            services.add_member(s, None, world["team"], member, "mediator", "social")
        # The duty: 2026-11-12 01:00-05:00 UTC (09:00-13:00 in Shanghai).
        start = datetime(2026, 11, 12, 1)
        duty = make_duty(
            s, area=world["area"], publisher=coordinator, kind="mediation", starts_at=start, hours=4
        )
        patrol = make_duty(
            s, area=world["area"], publisher=coordinator, kind="patrol", starts_at=start, hours=4
        )
        for task in (duty, patrol):
            make_claim(s, task=task, volunteer=volunteer)
        inside = make_case(s, area=world["area"], opener=police)
        accept(s, inside, lead=world["lead"], mediator=volunteer)
        outside = make_case(s, area=world["area"], opener=police)
        accept(s, outside, lead=world["lead"], mediator=volunteer)
        cancelled = make_case(s, area=world["area"], opener=police)
        accept(s, cancelled, lead=world["lead"], mediator=volunteer)
        _session(s, inside, world["room"], volunteer, start + timedelta(hours=1))
        _session(s, outside, world["room"], volunteer, start + timedelta(hours=5))
        _session(
            s,
            cancelled,
            world["outstation"],
            volunteer,
            start + timedelta(hours=3),
            status="cancelled",
        )
        theirs = make_case(s, area=world["area"], opener=police)
        accept(s, theirs, lead=world["lead"], mediator=other)
        _session(s, theirs, world["outstation"], other, start + timedelta(hours=1))
        s.commit()
        ids = (duty.id, patrol.id, inside.id)
        numbers = (inside.number, outside.number, cancelled.number, theirs.number)
        names = (volunteer.username, other.username)

    login(names[0])
    page = client.get(f"/duties/{ids[0]}")
    assert page.status_code == 200, page.get_data(as_text=True)[-1500:]
    html = page.get_data(as_text=True)
    assert "Mediation sessions you staffed" in html
    assert f'href="/mediation/{ids[2]}"' in html
    assert "2026-11-12 10:00–11:00" in html
    assert numbers[0] in html
    assert numbers[1] not in html and numbers[2] not in html and numbers[3] not in html
    # A duty of another kind: no sessions.
    patrol_html = client.get(f"/duties/{ids[1]}").get_data(as_text=True)
    assert numbers[0] not in patrol_html

    # A team member without a place on the duty sees none, not even their own.
    client.post("/logout", data={"csrf_token": _csrf(client)})
    login(names[1])
    other_html = client.get(f"/duties/{ids[0]}").get_data(as_text=True)
    assert numbers[0] not in other_html and numbers[3] not in other_html
    assert "Mediation sessions you staffed" not in other_html


def _csrf(client):
    from tests.conftest import csrf_from

    return csrf_from(client.get("/").get_data(as_text=True))
