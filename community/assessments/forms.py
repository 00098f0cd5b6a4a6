"""Forms of the star assessment: start a month, decide (with the manual item scores)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.fields import MonthField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from community.assessments import criteria
from community.core.forms import OnceForm, choices

DECISION_LABELS = {"approve": _l("Approve"), "reject": _l("Reject")}
STATUS_LABELS = {
    "all": _l("All"),
    "draft": _l("Draft"),
    "submitted": _l("Waiting for decision"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}


class StartAssessmentForm(OnceForm):
    # Empty means the service's default month (shown as the field's value).
    month = MonthField(_l("Month"), validators=[Optional()])


class _DecisionBase(FlaskForm):
    decision = SelectField(
        _l("Decision"),
        choices=choices(DECISION_LABELS.items()),
        validators=[InputRequired()],
    )
    reason = TextAreaField(
        _l("Reason (required to reject)"), validators=[Optional(), Length(max=500)]
    )

    def manual_fields(self):
        """(manual item, field) pairs in the order of the criteria registry."""
        return [(item, self[item.field_name]) for item in criteria.manual_items()]

    def manual_scores(self) -> dict[str, int | None]:
        return {item.code: field.data for item, field in self.manual_fields()}


def decision_form_class() -> type[_DecisionBase]:
    """The decision form with one `manual_<code>` field per registered manual item."""
    fields = {
        item.field_name: IntegerField(
            _l("%(label)s (0–%(max)d)", label=item.label, max=item.max_points),
            validators=[Optional(), NumberRange(min=0, max=item.max_points)],
            description=item.help,
            render_kw={"min": 0, "max": item.max_points, "inputmode": "numeric"},
        )
        for item in criteria.manual_items()
    }
    return type("AssessmentDecisionForm", (_DecisionBase,), fields)


def decision_form(*args, **kwargs) -> _DecisionBase:
    """An AssessmentDecisionForm bound like any FlaskForm."""
    return decision_form_class()(*args, **kwargs)
