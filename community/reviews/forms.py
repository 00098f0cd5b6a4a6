"""Forms of the review queue: one decision, the bulk approval, the filters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

DECISIONS = ("approve", "reject")
DECISION_LABELS = {"approve": _l("Approve"), "reject": _l("Reject")}


class DecisionForm(FlaskForm):
    """POST /reviews/<kind>/<id>: `decision` (approve, reject), `reason` (required
    to reject; the service says so on the field)."""

    decision = HiddenField(
        _l("Decision"),
        validators=[DataRequired(_l("Choose approve or reject.")), AnyOf(DECISIONS)],
    )
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=255)])
    next = HiddenField()


class BulkForm(FlaskForm):
    """POST /reviews/bulk: the chosen rows (`items`, "<kind>-<id>"), all approved."""

    items = SelectMultipleField(_l("Selected"), choices=[], validate_choice=False)
    next = HiddenField()
