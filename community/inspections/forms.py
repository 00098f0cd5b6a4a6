"""Forms of the safety-admission inspections and incidents: types, lengths, choices."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from community.core.forms import OnceForm, WrittenDateField, choices
from community.core.timeutil import today
from community.inspections.models import INCIDENT_KINDS, RESULTS
from community.inspections.services import INCIDENT_NOTE_MAX
from community.inspections.services import NOTE_MAX as RESULT_NOTE_MAX

RESULT_LABELS = {"pass": _l("Pass"), "fail": _l("Fail"), "na": _l("Not applicable")}
INCIDENT_KIND_LABELS = {"crime": _l("Crime / public security"), "fire": _l("Fire")}


class ResultForm(FlaskForm):
    """The answer to one checklist item (POST /inspections/<id>/items/<item_id>)."""

    result = RadioField(
        _l("Result"),
        choices=choices((r, RESULT_LABELS[r]) for r in RESULTS),
        validators=[InputRequired(message=_l("Choose pass, fail or not applicable."))],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=RESULT_NOTE_MAX)])


class IncidentForm(OnceForm):
    kind = SelectField(
        _l("Kind"), choices=choices((k, INCIDENT_KIND_LABELS[k]) for k in INCIDENT_KINDS)
    )
    # Typed as people write dates (core.validators.read_date); InputRequired keeps the
    # unreadable-date message (DataRequired would replace it by "enter the date").
    occurred_on = WrittenDateField(
        _l("Date"),
        format="%Y-%m-%d",
        default=today,
        validators=[InputRequired(message=_l("Enter the date (YYYY-MM-DD)."))],
    )
    note = TextAreaField(
        _l("What happened"),
        validators=[
            DataRequired(message=_l("Describe what happened.")),
            Length(max=INCIDENT_NOTE_MAX),
        ],
    )
