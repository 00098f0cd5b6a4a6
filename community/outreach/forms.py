"""Outreach forms: event, closing, sign-in, quiz, visit request, decline, corner,
coverage filter. Choices that depend on the user are set by the view."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from community.core.forms import OnceForm, WrittenDateField, choices
from community.core.uploads import MaxUploadBytes
from community.core.validators import InDayRange
from community.outreach.models import KINDS, TARGETS

KIND_LABELS = {
    "anti_fraud": _l("Anti-fraud"),
    "legal": _l("Legal education"),
    "anti_drug": _l("Anti-drug"),
    "anti_gang": _l("Anti-gang crime"),
    "fire_safety": _l("Fire safety"),
    "corner_visit": _l("Experience corner visit"),
    "safety_education": _l("Safety education"),
}
TARGET_LABELS = {
    "enterprise": _l("An enterprise"),
    "site": _l("A site"),
    "area": _l("A community"),
    "school": _l("A school"),
    "place": _l("Another place"),
}
EVENT_STATUS_LABELS = {
    "published": _l("Published"),
    "closed": _l("Held"),
    "cancelled": _l("Cancelled"),
}
REQUEST_STATUS_LABELS = {
    "waiting": _l("Waiting"),
    "scheduled": _l("Scheduled"),
    "declined": _l("Declined"),
}
LABELS = {
    "kind_labels": KIND_LABELS,
    "target_labels": TARGET_LABELS,
    "event_status_labels": EVENT_STATUS_LABELS,
    "request_status_labels": REQUEST_STATUS_LABELS,
}
TIME_FORMAT = "%Y-%m-%dT%H:%M"
PHOTO_EXTENSIONS = ["jpg", "jpeg", "png"]


def kind_choices():
    return choices((k, KIND_LABELS[k]) for k in KINDS)


class EventForm(OnceForm):
    kind = SelectField(_l("Kind"), choices=kind_choices(), default="anti_fraud")
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    target = RadioField(
        _l("Held at"),
        choices=choices((t, TARGET_LABELS[t]) for t in TARGETS),
        default="area",
    )
    enterprise_id = SelectField(
        _l("Enterprise"), coerce=int, default=0, choices=[], validate_choice=False
    )
    site_id = IntegerField(
        _l("Site number"), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)]
    )
    area_id = SelectField(_l("Community"), coerce=int, default=0, validate_choice=False)
    place = StringField(_l("School or place"), validators=[Optional(), Length(max=200)])
    corner_id = SelectField(
        _l("Experience corner"), coerce=int, default=0, choices=[], validate_choice=False
    )
    starts_at = DateTimeLocalField(
        _l("Starts"), format=TIME_FORMAT, validators=[InputRequired(), InDayRange()]
    )
    ends_at = DateTimeLocalField(
        _l("Ends"), format=TIME_FORMAT, validators=[InputRequired(), InDayRange()]
    )
    organiser_id = SelectField(_l("Organiser"), coerce=int, default=0, validate_choice=False)
    speakers = StringField(_l("Speakers"), validators=[Optional(), Length(max=200)])
    planned_audience = IntegerField(
        _l("Planned audience"), default=30, validators=[InputRequired(), NumberRange(0, 10000)]
    )
    staff = IntegerField(
        _l("Volunteers needed (0: none)"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=100)],
    )
    points = IntegerField(
        _l("Points per volunteer"), default=10, validators=[Optional(), NumberRange(0, 1000)]
    )
    request_id = HiddenField()


class EventEditForm(FlaskForm):
    """What changes before an event starts: its time, place and speakers."""

    starts_at = DateTimeLocalField(
        _l("Starts"), format=TIME_FORMAT, validators=[InputRequired(), InDayRange()]
    )
    ends_at = DateTimeLocalField(
        _l("Ends"), format=TIME_FORMAT, validators=[InputRequired(), InDayRange()]
    )
    place = StringField(_l("School or place"), validators=[Optional(), Length(max=200)])
    speakers = StringField(_l("Speakers"), validators=[Optional(), Length(max=200)])


class CloseForm(FlaskForm):
    hand_count = IntegerField(
        _l("People counted by hand (not signed in)"),
        default=0,
        validators=[InputRequired(), NumberRange(min=0, max=10000)],
    )
    materials = IntegerField(
        _l("Materials handed out"),
        default=0,
        validators=[InputRequired(), NumberRange(min=0, max=100000)],
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
    photo1 = FileField(
        _l("Photo 1 (optional)"),
        validators=[
            FileAllowed(PHOTO_EXTENSIONS, _l("Only JPEG or PNG photos are accepted.")),
            MaxUploadBytes(),
        ],
    )
    photo2 = FileField(
        _l("Photo 2 (optional)"),
        validators=[
            FileAllowed(PHOTO_EXTENSIONS, _l("Only JPEG or PNG photos are accepted.")),
            MaxUploadBytes(),
        ],
    )
    photo3 = FileField(
        _l("Photo 3 (optional)"),
        validators=[
            FileAllowed(PHOTO_EXTENSIONS, _l("Only JPEG or PNG photos are accepted.")),
            MaxUploadBytes(),
        ],
    )


class SigninForm(FlaskForm):
    """The attendee's sign-in: a nonce made by the page, an optional name and
    employer. Never an ID number or a phone number."""

    nonce = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])
    name = StringField(_l("Your name (optional)"), validators=[Optional(), Length(max=40)])
    employer = StringField(_l("Employer (optional)"), validators=[Optional(), Length(max=120)])


class QuizForm(FlaskForm):
    """Five questions; the view sets each field's label and choices from quiz.py."""

    q1 = RadioField(choices=[], validators=[InputRequired()], validate_choice=True)
    q2 = RadioField(choices=[], validators=[InputRequired()], validate_choice=True)
    q3 = RadioField(choices=[], validators=[InputRequired()], validate_choice=True)
    q4 = RadioField(choices=[], validators=[InputRequired()], validate_choice=True)
    q5 = RadioField(choices=[], validators=[InputRequired()], validate_choice=True)


class RequestForm(OnceForm):
    kind = SelectField(_l("Kind of session"), choices=kind_choices(), default="anti_fraud")
    organization_id = SelectField(
        _l("For"), coerce=int, default=0, choices=[], validate_choice=False
    )
    site_id = SelectField(
        _l("At which of your sites (property companies)"),
        coerce=int,
        default=0,
        choices=[],
        validate_choice=False,
    )
    preferred_from = WrittenDateField(_l("Preferred from"), validators=[InputRequired()])
    preferred_to = WrittenDateField(_l("Preferred until"), validators=[InputRequired()])
    audience = IntegerField(
        _l("Expected audience"),
        default=30,
        validators=[InputRequired(), NumberRange(min=1, max=10000)],
    )
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=255)])


class CornerForm(OnceForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    area_id = SelectField(_l("Community"), coerce=int, default=0, validate_choice=False)
    site_id = IntegerField(
        _l("Site number (optional)"), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)]
    )
    place = StringField(_l("Place"), validators=[Optional(), Length(max=200)])
    opens = TimeField(_l("Opens"), validators=[InputRequired()])
    closes = TimeField(_l("Closes"), validators=[InputRequired()])
    capacity = IntegerField(
        _l("Visitors per group"), default=30, validators=[InputRequired(), NumberRange(1, 500)]
    )


class CoverageForm(FlaskForm):
    """The coverage page's query string; no CSRF (a GET)."""

    class Meta:
        csrf = False

    area = SelectField(_l("Area"), coerce=int, default=0, validate_choice=False)
    kind = SelectField(
        _l("Kind"),
        choices=choices([("", _l("Any kind")), *((k, KIND_LABELS[k]) for k in KINDS)]),
        default="",
        validate_choice=True,
    )
