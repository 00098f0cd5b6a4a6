"""Review kind of inspections: sites whose (re-)inspection is due today or overdue.
Link-only: the inspection is done on the site's page, not decided in the queue."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func

from community.accounts.permissions import can
from community.core.reviews import ReviewKind, by_id, pending_select, register_review_kind
from community.core.timeutil import local_day, today
from community.inspections.queries import due_by_sql
from community.places import queries as places
from community.places.models import Site
from community.places.permissions import inspects_areas


def _due_sites(user: Any) -> Select:
    # Due since the stored due date (Site.due_on); a site never inspected since it
    # was registered.
    since = func.coalesce(Site.due_on, local_day(Site.created_at))
    return pending_select(Site.id, Site.name, since, Site.area_id).where(
        due_by_sql(today()), inspects_areas(user, Site.area_id)
    )


register_review_kind(
    ReviewKind(
        name="inspection",
        label=_l("Inspections due"),
        order=40,
        reviewer=lambda user: can(user, "inspection.review_queue"),
        pending=_due_sites,
        get=by_id(places.get_site),
        view_action="site.view",
        decide_action="inspection.create",
        link=lambda id: url_for("places.show", site_id=id),
        action_label=_l("Do the inspection"),
    )
)
