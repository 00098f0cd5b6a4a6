"""Mediation forms: the case with a fixed number of party rows (works without
JavaScript), acceptance with its mediators, a session's booking and record, the
outcome, the follow-up, an objection, rooms and team members; the search."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from community.core.forms import OnceForm, choices
from community.core.validators import InDayRange
from community.mediation.models import (
    CASE_KINDS,
    CATEGORIES,
    OUTCOMES,
    PARTY_ROLES,
    POSITIONS,
    REFERRALS,
    RISKS,
    ROOM_KINDS,
    SOURCES,
)
from community.mediation.services.intake import PARTY_DOCUMENTS
from community.residents.documents import DOCUMENT_LABELS

KIND_LABELS = {
    "rent": _l("Rent / deposit"),
    "neighbour": _l("Neighbours"),
    "wages": _l("Labour / unpaid wages"),
    "property": _l("Property management"),
    "traffic": _l("Traffic"),
    "family": _l("Marriage and family"),
    "consumer": _l("Consumer / economic"),
    "other": _l("Other"),
}
SOURCE_LABELS = {
    "police": _l("Police call passed on"),
    "visit": _l("Walk-in visit"),
    "submitted": _l("Submitted by association / property company"),
    "screening": _l("Screening"),
}
RISK_LABELS = {"high": _l("High"), "medium": _l("Medium"), "low": _l("Low")}
STATUS_LABELS = {
    "new": _l("To accept"),
    "accepted": _l("In mediation"),
    "concluded": _l("Concluded"),
    "closed": _l("Closed"),
}
OUTCOME_LABELS = {
    "agreement": _l("Agreement"),
    "referred": _l("No agreement: referred"),
    "withdrawn": _l("Withdrawn"),
}
REFERRAL_LABELS = {
    "court": _l("Court"),
    "arbitration": _l("Arbitration"),
    "police": _l("Police handling"),
}
PARTY_ROLE_LABELS = {"applicant": _l("Applicant"), "respondent": _l("Respondent")}
POSITION_LABELS = {"lead": _l("Team lead"), "mediator": _l("Mediator")}
CATEGORY_LABELS = {
    "professional": _l("Professional"),
    "social": _l("Social (老娘舅)"),
    "part_time": _l("Part-time"),
}
ROOM_KIND_LABELS = {"flagship": _l("Flagship room"), "outstation": _l("Outstation room")}
SESSION_LABELS = {"booked": _l("Booked"), "held": _l("Held"), "cancelled": _l("Cancelled")}
EVENT_LABELS = {
    "opened": _l("Case opened"),
    "accepted": _l("Accepted and assigned"),
    "objection": _l("Objection to a mediator"),
    "booked": _l("Session booked"),
    "held": _l("Session held"),
    "session_cancelled": _l("Session cancelled"),
    "concluded": _l("Outcome recorded"),
    "followup": _l("Follow-up visit"),
    "closed": _l("Case closed"),
    "overdue": _l("Overdue"),
}
LABELS = {
    "kind_labels": KIND_LABELS,
    "source_labels": SOURCE_LABELS,
    "risk_labels": RISK_LABELS,
    "status_labels": STATUS_LABELS,
    "outcome_labels": OUTCOME_LABELS,
    "referral_labels": REFERRAL_LABELS,
    "party_role_labels": PARTY_ROLE_LABELS,
    "position_labels": POSITION_LABELS,
    "category_labels": CATEGORY_LABELS,
    "room_kind_labels": ROOM_KIND_LABELS,
    "session_labels": SESSION_LABELS,
    "event_labels": EVENT_LABELS,
}
PARTY_ROWS = 4
_PARTY_FIELD = re.compile(r"^parties-(\d+)-(\w+)$")
TIME_FORMAT = "%Y-%m-%dT%H:%M"


class PartyForm(Form):
    """One party row (no CSRF of its own: the case form carries it)."""

    name = StringField(_l("Full name"), validators=[Optional(), Length(max=60)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=20)])
    role = SelectField(
        _l("Role"), choices=choices(PARTY_ROLE_LABELS.items()), validate_choice=False
    )
    document_type = SelectField(
        _l("Identity document (optional)"),
        choices=choices((k, DOCUMENT_LABELS[k]) for k in PARTY_DOCUMENTS),
        validate_choice=False,
    )
    id_number = StringField(
        _l("Document number (optional)"), validators=[Optional(), Length(max=30)]
    )
    organization = StringField(
        _l("Organisation or employer (optional)"), validators=[Optional(), Length(max=120)]
    )


class CaseForm(OnceForm):
    """POST /mediation/new: kind, source, area_id, site_id, summary, amount, risk and
    parties-0-* .. parties-3-* (name, phone, role, document_type, id_number,
    organization); at least two rows filled."""

    kind = SelectField(_l("Type of dispute"), choices=choices(KIND_LABELS.items()))
    source = SelectField(_l("Source"), choices=choices(SOURCE_LABELS.items()))
    area_id = SelectField(_l("Area"), coerce=int, validate_choice=True)
    site_id = SelectField(_l("Site (optional)"), coerce=int, default=0, validate_choice=True)
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=4000)])
    amount = IntegerField(
        _l("Amount in dispute (yuan)"), validators=[Optional(), NumberRange(min=0, max=100_000_000)]
    )
    risk = RadioField(_l("Risk of escalation"), choices=choices(RISK_LABELS.items()), default="low")
    parties = FieldList(FormField(PartyForm), min_entries=PARTY_ROWS, max_entries=PARTY_ROWS)

    def _party_field(self, name: str):
        """The field of a party row named as it is posted (parties-1-phone): the
        services blame party fields by these names."""
        found = _PARTY_FIELD.match(name)
        fields = self.__dict__.get("_fields") or {}
        if not found or "parties" not in fields:
            return None
        entries = fields["parties"].entries
        index = int(found.group(1))
        if index >= len(entries):
            return None
        return entries[index].form._fields.get(found.group(2))

    def __contains__(self, name: str) -> bool:
        return super().__contains__(name) or self._party_field(name) is not None

    def __getattr__(self, name: str):
        if name.startswith("parties-"):
            field = self._party_field(name)
            if field is not None:
                return field
        raise AttributeError(name)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for index, row in enumerate(self.parties):
            if not row.form.role.data or row.form.role.data == "None":
                row.form.role.data = "applicant" if index == 0 else "respondent"


class AcceptForm(FlaskForm):
    lead_mediator_id = SelectField(_l("Lead mediator"), coerce=int, validate_choice=True)
    other_ids = SelectMultipleField(_l("Other mediators"), coerce=int, validate_choice=True)
    confirm_reason = TextAreaField(
        _l("Reason to assign a flagged mediator (回避 check)"),
        validators=[Optional(), Length(max=255)],
    )


class BookForm(OnceForm):
    room_id = SelectField(_l("Room"), coerce=int, validate_choice=True)
    mediator_id = SelectField(_l("Mediator"), coerce=int, validate_choice=True)
    starts_at = DateTimeLocalField(
        _l("Starts"), format=TIME_FORMAT, validators=[InputRequired(), InDayRange()]
    )
    ends_at = DateTimeLocalField(
        _l("Ends"), format=TIME_FORMAT, validators=[InputRequired(), InDayRange()]
    )


class SessionRecordForm(FlaskForm):
    notes = TextAreaField(_l("Session notes"), validators=[DataRequired(), Length(max=4000)])


class OutcomeForm(FlaskForm):
    outcome = RadioField(
        _l("Outcome"), choices=choices(OUTCOME_LABELS.items()), default="agreement"
    )
    terms = TextAreaField(_l("Terms agreed"), validators=[Optional(), Length(max=4000)])
    settled_amount = IntegerField(
        _l("Amount settled (yuan)"), validators=[Optional(), NumberRange(min=0, max=100_000_000)]
    )
    payment_schedule = StringField(_l("Payment schedule"), validators=[Optional(), Length(max=500)])
    referral = SelectField(
        _l("Referred to"),
        choices=choices([("", "—"), *REFERRAL_LABELS.items()]),
        default="",
        validate_choice=False,
    )
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])


class FollowupForm(FlaskForm):
    performed = BooleanField(_l("The visit took place"), default=True)
    satisfied = BooleanField(_l("The parties are satisfied"))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])


class ObjectionForm(FlaskForm):
    party_id = SelectField(_l("Party"), coerce=int, validate_choice=True)
    mediator_id = SelectField(_l("Mediator objected to"), coerce=int, validate_choice=True)
    reason = TextAreaField(_l("Objection"), validators=[DataRequired(), Length(max=500)])


class RoomForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    area_id = SelectField(_l("Area"), coerce=int, validate_choice=True)
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=choices((k, ROOM_KIND_LABELS[k]) for k in ROOM_KINDS))
    opens = TimeField(_l("Opens"), default=None, validators=[InputRequired()])
    closes = TimeField(_l("Closes"), default=None, validators=[InputRequired()])
    active = BooleanField(_l("Open for bookings"), default=True)


class MemberForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    position = SelectField(
        _l("Position"), choices=choices((p, POSITION_LABELS[p]) for p in POSITIONS)
    )
    category = SelectField(
        _l("Category"), choices=choices((c, CATEGORY_LABELS[c]) for c in CATEGORIES)
    )


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Case number, party name or phone"), validators=[Optional(), Length(max=40)])
    status = SelectField(
        _l("Status"),
        choices=choices([("", _l("Open")), ("all", _l("All")), *STATUS_LABELS.items()]),
        default="",
        validate_choice=False,
    )


class WeekForm(FlaskForm):
    class Meta:
        csrf = False

    week = StringField(_l("Week"), validators=[Optional(), Length(max=10)])


__all__ = [
    "CASE_KINDS",
    "LABELS",
    "OUTCOMES",
    "PARTY_ROLES",
    "REFERRALS",
    "RISKS",
    "SOURCES",
]
