"""The duty reminder: one notice per claim on a duty starting within two hours."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from community.core.models import Notification
from community.core.notify import message
from community.core.reminders import run_reminders
from community.core.timeutil import utcnow
from community.duty.reminders import remind_duties
from tests.factories.accounts import make_area_tree
from tests.factories.duty import make_claim, make_coordinator, make_duty, make_volunteer


def _notices(session, user):
    return list(
        session.scalars(
            select(Notification).where(
                Notification.user_id == user.id, Notification.kind == "duty-reminder"
            )
        )
    )


def test_one_reminder_per_claim_within_two_hours(app_ctx, session):
    community = make_area_tree(session)[2]
    coordinator = make_coordinator(session, area=community)
    soon = make_duty(
        session,
        area=community,
        publisher=coordinator,
        title="早班巡逻",
        starts_in=timedelta(hours=1),
    )
    later = make_duty(session, area=community, publisher=coordinator, starts_in=timedelta(hours=3))
    holder, canceller, later_one = (make_volunteer(session, area=community) for _ in range(3))
    claim = make_claim(session, task=soon, volunteer=holder)
    make_claim(session, task=soon, volunteer=canceller, status="cancelled")
    make_claim(session, task=later, volunteer=later_one)

    assert remind_duties(session, utcnow()) == 1
    assert run_reminders(session, utcnow())["community.duty.reminders.remind_duties"] == 0

    [notice] = _notices(session, holder)
    assert notice.dedupe_key == f"duty-reminder:{claim.id}"
    assert notice.link == f"/duties/{soon.id}"
    assert "早班巡逻" in message(notice.kind, notice.params)
    assert _notices(session, canceller) == [] and _notices(session, later_one) == []
