"""The residents' daily reminder (core.reminders): registrations sent back and not
corrected yet."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from community.core.notify import notify, path_for, register_message
from community.core.reminders import register_reminder
from community.core.timeutil import local_date
from community.residents.models import Residence

TO_CORRECT_NOTICE = "residences-to-correct"
register_message(
    TO_CORRECT_NOTICE,
    _l("%(count)s registrations you reported were sent back and still wait for correction."),
)


@register_reminder
def remind_to_correct(session: Session, now) -> int:
    """Reporters of registrations sent back more than a day ago and not corrected
    yet: one notice a day per reporter with the count. (A report that is not made
    yet is unknown here, since a move-in is learnt from its report: what is
    honestly due is the correction of what was sent back.)"""
    rows = session.execute(
        select(Residence.reporter_id, func.count())
        .where(
            Residence.status == "rejected",
            Residence.reporter_id.is_not(None),
            Residence.verified_at <= now - timedelta(days=1),
        )
        .group_by(Residence.reporter_id)
    ).all()
    added = 0
    day = local_date(now).isoformat()
    for reporter_id, count in rows:
        added += len(
            notify(
                session,
                [reporter_id],
                TO_CORRECT_NOTICE,
                link=path_for("residents.index"),
                key=f"residences-to-correct:{day}",
                count=count,
            )
        )
    return added
