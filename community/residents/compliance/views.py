"""The compliance page /compliance/ (points, late reports, yellow cards of the
month at the sites in scope, and the communities' registration rates) and the
police's yellow card. Routes of the residents blueprint (endpoints
residents.compliance and residents.issue_card)."""

from __future__ import annotations

import re
from datetime import date

from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.accounts.permissions import authorize_or_403, can
from community.core import events
from community.core.errors import RuleViolation
from community.core.htmx import is_partial, render, submit
from community.core.once import once
from community.core.timeutil import today as local_today
from community.extensions import db
from community.residents import bp
from community.residents import queries as residents_queries
from community.residents.compliance import queries, services
from community.residents.compliance.forms import YellowCardForm

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def _month(value: str | None) -> date:
    """The first day of YYYY-MM; this month for anything else."""
    match = _MONTH_RE.match(value or "")
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 2000 <= year <= 2999 and 1 <= month <= 12:
            return date(year, month, 1)
    return local_today().replace(day=1)


def _compliance_page(month: date, status: int = 200, trigger=None, conflict=None, card_form=None):
    rows = queries.compliance_rows(
        db.session, current_user, month, current_app.config["COMPLIANCE_YELLOW_CARD_LATE"]
    )
    # The community rates sit outside the block an htmx answer swaps.
    communities = (
        None if is_partial() else residents_queries.community_rates(db.session, current_user)
    )
    return render(
        "residents/compliance/index.html",
        "compliance",
        rows=rows,
        communities=communities,
        month=month,
        can_issue=can(current_user, "compliance.issue_card"),
        card_form=card_form or YellowCardForm(formdata=None),
        blank_form=YellowCardForm(formdata=None),
        threshold=current_app.config["COMPLIANCE_YELLOW_CARD_LATE"],
        conflict=conflict,
        status=status,
        trigger=trigger,
    )


@bp.route("/compliance/")
@login_required
def compliance():
    authorize_or_403("compliance.view")
    return _compliance_page(_month(request.args.get("month")))


@bp.route("/compliance/cards", methods=["POST"])
@login_required
@once
def issue_card():
    authorize_or_403("compliance.issue_card")
    form = YellowCardForm()
    month = _month(form.month.data)
    threshold = current_app.config["COMPLIANCE_YELLOW_CARD_LATE"]

    def step():
        rows = queries.compliance_rows(db.session, current_user, month, threshold)
        row = {r.key: r for r in rows}.get(form.target.data or "")
        if row is None:
            raise RuleViolation(None, _("Choose a landlord or company that reported this month."))
        return services.issue_yellow_card(
            db.session,
            current_user,
            month=month,
            reason=form.reason.data,
            user_id=row.id if row.kind == "user" else None,
            organization_id=row.id if row.kind == "org" else None,
        )

    location = url_for("residents.compliance", month=month.strftime("%Y-%m"))
    return submit(
        form,
        step,
        page=lambda status, conflict=None: _compliance_page(
            month, status=status, conflict=conflict, card_form=form
        ),
        message=_("Yellow card issued."),
        location=location,
        fragment=lambda _r: _compliance_page(month, trigger=events.YELLOW_CARD_ISSUED),
    )
