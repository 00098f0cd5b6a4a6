"""Place forms: types, lengths, ranges and choices only (rules live in services)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from community.accounts.forms import coerce_optional_int
from community.core.forms import OnceForm, choices
from community.places.models import MAX_PEOPLE, SITE_KINDS

SITE_KIND_LABELS = {
    "rental_apartment": _l("Rental apartment"),
    "rental_house": _l("Rental house"),
    "compound": _l("Residential compound"),
    "dormitory": _l("Dormitory"),
}
APPLICATION_STATUS_LABELS = {
    "pending": _l("Pending"),
    "approved": _l("Member"),
    "declined": _l("Declined"),
}


def kind_choices():
    return choices((k, SITE_KIND_LABELS[k]) for k in SITE_KINDS)


class SiteForm(OnceForm):
    """Contract field names: name, kind, area_id, address, association_id, company_id.
    `enterprise_id` names a dormitory's enterprise; `landlord_username` is offered to
    police and administrators only."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=kind_choices())
    area_id = SelectField(_l("Community"), coerce=coerce_optional_int, validators=[DataRequired()])
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=255)])
    association_id = SelectField(
        _l("Landlord association"), coerce=coerce_optional_int, validators=[Optional()]
    )
    company_id = SelectField(
        _l("Property company"), coerce=coerce_optional_int, validators=[Optional()]
    )
    enterprise_id = SelectField(
        _l("Enterprise (dormitories)"), coerce=coerce_optional_int, validators=[Optional()]
    )
    landlord_username = StringField(
        _l("Landlord (username)"), validators=[Optional(), Length(max=80)]
    )


class BuildingForm(OnceForm):
    name = StringField(_l("Building name"), validators=[DataRequired(), Length(max=60)])


class RoomForm(OnceForm):
    number = StringField(_l("Room number"), validators=[DataRequired(), Length(max=30)])
    beds = IntegerField(
        _l("Beds"), default=0, validators=[InputRequired(), NumberRange(min=0, max=MAX_PEOPLE)]
    )
    occupants = IntegerField(
        _l("Occupants (head count)"),
        default=0,
        validators=[InputRequired(), NumberRange(min=0, max=MAX_PEOPLE)],
    )


class RoomEditForm(FlaskForm):
    number = StringField(_l("Room number"), validators=[DataRequired(), Length(max=30)])
    beds = IntegerField(
        _l("Beds"), validators=[InputRequired(), NumberRange(min=0, max=MAX_PEOPLE)]
    )
    occupants = IntegerField(
        _l("Occupants (head count)"),
        validators=[InputRequired(), NumberRange(min=0, max=MAX_PEOPLE)],
    )


class ApplyForm(OnceForm):
    note = TextAreaField(_l("Note to the association (optional)"), validators=[Length(max=255)])


class DecisionForm(FlaskForm):
    decision = SelectField(
        _l("Decision"),
        choices=choices([("approve", _l("Approve")), ("decline", _l("Decline"))]),
    )
    reason = StringField(_l("Reason (required to decline)"), validators=[Length(max=255)])
