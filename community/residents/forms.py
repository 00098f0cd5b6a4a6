"""Resident forms: the report (room, person, dates), the self-declaration (with
consent), decisions, move-out, list filters. Field names are the interface
contract (DESIGN.md, "residence report" and "self-declaration")."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from community.core.forms import OnceForm, WrittenDateField, choices
from community.residents.documents import DOCUMENT_LABELS, ID_CARD, countries

STATUS_LABELS = {
    "pending": _l("Waiting for verification"),
    "verified": _l("Verified"),
    "rejected": _l("Sent back"),
}
STATUS_FILTERS = {"": _l("All"), **STATUS_LABELS}
CHANNEL_LABELS = {
    "landlord": _l("Landlord"),
    "property_manager": _l("Property company"),
    "enterprise": _l("Enterprise"),
    "self_declared": _l("Self-declared (QR code)"),
    "police": _l("Police"),
}
GENDER_LABELS = {"M": _l("Male"), "F": _l("Female")}
# Label tables every residents template gets (so each block renders alone).
LABELS = {
    "status_labels": STATUS_LABELS,
    "channel_labels": CHANNEL_LABELS,
    "gender_labels": GENDER_LABELS,
    "document_labels": DOCUMENT_LABELS,
    "country_names": countries,
}
DATE_HELP = _l("YYYY-MM-DD")


class Hints:
    """A field's browser hints (required, maxlength: the field macro's star and the
    input's attributes) for a field whose rule lives in rules.clean_report: it
    checks nothing, so the words of a refusal are the rule's in every channel."""

    def __init__(self, *, required: bool = False, max: int | None = None):  # noqa: A002
        self.field_flags: dict = {}
        if required:
            self.field_flags["required"] = True
        if max:
            self.field_flags["maxlength"] = max

    def __call__(self, form, field) -> None:
        return None


class _PersonFields(OnceForm):
    """What every channel asks about the resident; the rules (a name and a document
    number given, their shape and lengths, the phone, the dates) are checked once,
    in rules.clean_report, which the spreadsheet import calls too: these fields check
    nothing themselves (Hints only), so a row refused in one channel is refused in every
    other with the same words (tests/residents/test_same_rules.py). The document
    type defaults to the resident ID card, so a form without it keeps working; the
    country, Latin name, gender and birth date are asked for the documents whose
    number does not say them (residents/documents.py)."""

    document_type = SelectField(
        _l("Identity document"),
        choices=choices(DOCUMENT_LABELS.items()),
        default=ID_CARD,
        validate_choice=False,
    )
    nationality = SelectField(_l("Country (passport)"), validate_choice=False, default="")
    latin_name = StringField(
        _l("Name in Latin letters (passport)"),
        validators=[Hints(max=80)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "lang": "en"},
    )
    gender = SelectField(
        _l("Gender (permits and passports)"),
        choices=choices([("", "—"), *GENDER_LABELS.items()]),
        default="",
        validate_choice=False,
    )
    birth_date = WrittenDateField(
        _l("Birth date (permits and passports)"),
        validators=[Optional()],
        format="%Y-%m-%d",
        render_kw={"type": "date"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.nationality.choices = choices([("", "—"), *countries().items()])

    def document(self) -> dict:
        """The document's fields besides the number, as services take them."""
        return {
            "document_type": self.document_type.data or ID_CARD,
            "nationality": self.nationality.data or None,
            "latin_name": self.latin_name.data,
            "gender": self.gender.data or None,
            "birth_date": self.birth_date.data,
        }

    name = StringField(_l("Full name"), validators=[Hints(max=60)])
    id_number = StringField(
        _l("Document number"),
        validators=[Hints(required=True, max=30)],
        render_kw={"autocomplete": "off", "inputmode": "text", "spellcheck": "false"},
    )
    phone = StringField(
        _l("Mobile phone"),
        validators=[Hints(max=20)],
        render_kw={"autocomplete": "off", "inputmode": "tel"},
    )
    move_in = WrittenDateField(
        _l("Moved in on"),
        validators=[Hints(required=True)],
        format="%Y-%m-%d",
        render_kw={"type": "date"},
    )


class ResidenceForm(_PersonFields):
    """POST /residents/new: room_id, name, id_number, phone, move_in, hometown, employer."""

    room_id = SelectField(_l("Room"), coerce=int, validate_choice=False)
    hometown = StringField(_l("Hometown (optional)"), validators=[Hints(max=60)])
    employer = StringField(_l("Employer (optional)"), validators=[Hints(max=120)])


CONSENT_LABEL = _l(
    "I agree that these details are used to register the residents of this house for "
    "community safety and are checked by the community police. They are kept while I "
    "live here and deleted one year after I move out."
)


class DeclarationForm(_PersonFields):
    """POST /declare/<token>: room_id, name, id_number, phone, move_in, consent."""

    room_id = SelectField(_l("Room"), coerce=int, validate_choice=False)
    # Required here (rules.clean_report's phone_required for a self-declaration).
    phone = StringField(
        _l("Mobile phone"),
        validators=[Hints(required=True, max=20)],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    consent = BooleanField(
        CONSENT_LABEL,
        validators=[DataRequired(message=_l("Registration needs your consent."))],
    )


class RejectForm(FlaskForm):
    reason = StringField(
        _l("Why is it sent back?"),
        validators=[
            DataRequired(message=_l("Say why the registration is sent back.")),
            Length(max=255),
        ],
    )


class MoveOutForm(FlaskForm):
    move_out = WrittenDateField(
        _l("Moved out on"),
        validators=[InputRequired(message=_l("Enter the move-out date (YYYY-MM-DD)."))],
        format="%Y-%m-%d",
        render_kw={"type": "date"},
    )


class ResidentFilterForm(FlaskForm):
    """The list's query string; no CSRF (a GET)."""

    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"), choices=choices(STATUS_FILTERS.items()), default="", validate_choice=True
    )
    q = StringField(_l("ID number or name"), validators=[Optional(), Length(max=60)])


class PickForm(FlaskForm):
    """The report form's first steps (GET): site, then building."""

    class Meta:
        csrf = False

    site_id = IntegerField(_l("Site"), validators=[Optional(), NumberRange(min=1)])
    building_id = IntegerField(_l("Building"), validators=[Optional(), NumberRange(min=1)])
    room_id = IntegerField(_l("Room"), validators=[Optional(), NumberRange(min=1)])


class ResubmitForm(_PersonFields):
    """POST /residents/<id>/resubmit: the corrected report (name, id_number, phone,
    move_in, hometown, employer) of a registration that was sent back. The ID
    number and phone are never echoed: left empty, the stored ones are kept
    (services.resubmit_residence)."""

    id_number = StringField(
        _l("ID number"),
        validators=[Hints(max=30)],
        render_kw={"autocomplete": "off", "inputmode": "text", "spellcheck": "false"},
    )
    hometown = StringField(_l("Hometown (optional)"), validators=[Hints(max=60)])
    employer = StringField(_l("Employer (optional)"), validators=[Hints(max=120)])
