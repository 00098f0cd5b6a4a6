"""Duty forms: the task (contract field names), the list filters, check-out with a
hazard, the reject reason, the checkpoint tick (position optional)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from community.core.forms import OnceForm, choices
from community.core.uploads import MaxUploadBytes
from community.core.validators import InDayRange
from community.duty.models import KINDS
from community.hazards.forms import SEVERITY_LABELS

KIND_LABELS = {
    "patrol": _l("Security patrol"),
    "fire_check": _l("Fire-safety check"),
    "legal_publicity": _l("Legal publicity"),
    "mediation": _l("Dispute mediation"),
    "anti_fraud": _l("Anti-fraud publicity"),
    "publicity": _l("Publicity event"),
}
TASK_STATUS_LABELS = {
    "published": _l("Published"),
    "cancelled": _l("Cancelled"),
    "done": _l("Done"),
}
CLAIM_STATUS_LABELS = {
    "claimed": _l("Claimed"),
    "waiting": _l("Waiting list"),
    "cancelled": _l("Cancelled"),
    "on_duty": _l("On duty"),
    "reported": _l("Reported"),
    "approved": _l("Approved"),
    "rejected": _l("Returned"),
    "no_show": _l("No-show"),
}
LABELS = {
    "kind_labels_duty": KIND_LABELS,
    "task_status_labels": TASK_STATUS_LABELS,
    "claim_status_labels": CLAIM_STATUS_LABELS,
}
TIME_FORMAT = "%Y-%m-%dT%H:%M"


class DutyForm(OnceForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(
        _l("Kind"), choices=choices((k, KIND_LABELS[k]) for k in KINDS), default="patrol"
    )
    area_id = SelectField(_l("Area"), coerce=int, validate_choice=True)
    team_id = SelectField(_l("Reserved for team"), coerce=int, default=0, validate_choice=True)
    starts_at = DateTimeLocalField(
        _l("Starts"), format=TIME_FORMAT, validators=[InputRequired(), InDayRange()]
    )
    ends_at = DateTimeLocalField(
        _l("Ends"), format=TIME_FORMAT, validators=[InputRequired(), InDayRange()]
    )
    capacity = IntegerField(
        _l("Places"), default=5, validators=[InputRequired(), NumberRange(max=500)]
    )
    points = IntegerField(
        _l("Points"), default=10, validators=[InputRequired(), NumberRange(max=1000)]
    )
    checkpoints = TextAreaField(
        _l("Checkpoints (one per line)"), validators=[Optional(), Length(max=6000)]
    )
    repeat_weeks = IntegerField(
        _l("Repeat weekly for (weeks)"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=26)],
    )


class EditDutyForm(DutyForm):
    scope = SelectField(
        _l("Apply to"),
        choices=choices(
            (("one", _l("This duty only")), ("rest", _l("This and the rest of the series")))
        ),
        default="one",
        validate_choice=True,
    )


class CancelDutyForm(FlaskForm):
    scope = SelectField(
        _l("Cancel"),
        choices=choices(
            (("one", _l("This duty only")), ("rest", _l("This and the rest of the series")))
        ),
        default="one",
        validate_choice=True,
    )


class DutyFilterForm(FlaskForm):
    """The list's query string; no CSRF (a GET)."""

    class Meta:
        csrf = False

    kind = SelectField(
        _l("Kind"),
        choices=choices([("", _l("All kinds")), *((k, KIND_LABELS[k]) for k in KINDS)]),
        default="",
        validate_choice=True,
    )
    day = DateField(_l("Day"), validators=[Optional(), InDayRange()])
    week = DateField(_l("Week of"), validators=[Optional(), InDayRange()])
    free = BooleanField(_l("Only with free places"))


class VisitForm(FlaskForm):
    # Filled by static/js/app.js from navigator.geolocation when the volunteer allows it.
    lat = FloatField(validators=[Optional(), NumberRange(min=-90, max=90)])
    lon = FloatField(validators=[Optional(), NumberRange(min=-180, max=180)])


# The fields that make a check-out (its fingerprint when sent from the phone's queue).
CHECK_OUT_FIELDS = ("report", "hazard_description", "hazard_severity", "hazard_site_id")


class CheckOutForm(OnceForm):
    report = TextAreaField(_l("Report"), validators=[DataRequired(), Length(max=2000)])
    hazard_description = TextAreaField(
        _l("Hazard found (optional)"), validators=[Optional(), Length(max=1000)]
    )
    hazard_severity = SelectField(
        _l("Severity"),
        choices=choices(SEVERITY_LABELS.items()),
        default="medium",
        validate_choice=True,
    )
    hazard_site_id = SelectField(_l("At site"), coerce=int, default=0, validate_choice=True)
    hazard_photo = FileField(
        _l("Photo (optional)"),
        validators=[
            FileAllowed(["jpg", "jpeg", "png"], _l("Only JPEG or PNG photos are accepted.")),
            MaxUploadBytes(),
        ],
    )


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class MonthForm(FlaskForm):
    class Meta:
        csrf = False

    month = StringField(_l("Month"), validators=[Optional(), Length(max=7)])
    by = HiddenField()
    area_id = SelectField(_l("Area"), coerce=int, default=0, validate_choice=True)


class TrackConsentForm(FlaskForm):
    """Record my route on this duty? Asked once per duty (the two buttons)."""

    consent = SelectField(
        choices=choices((("yes", _l("Record my route")), ("no", _l("Not this time")))),
        validate_choice=True,
    )
