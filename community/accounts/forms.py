"""Account forms: types, lengths and choices only (rules live in services)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from community.accounts.models import AREA_LEVELS, ORG_KINDS, ROLES
from community.accounts.services import (
    DISPLAY_NAME_MAX,
    USERNAME_MAX,
    USERNAME_MIN,
    is_valid_username,
)
from community.core.forms import OnceForm, choices
from community.core.inputs import is_clean_display_text
from community.core.validators import Phone

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "police": _l("Police liaison"),
    "coordinator": _l("Community coordinator"),
    "association": _l("Landlord association officer"),
    "landlord": _l("Landlord"),
    "property_manager": _l("Property manager"),
    "enterprise": _l("Enterprise"),
    "volunteer": _l("Volunteer"),
    "mediator": _l("Mediator"),
}
KIND_LABELS = {
    "police_station": _l("Police station"),
    "community_office": _l("Community office"),
    "landlord_association": _l("Landlord association"),
    "property_company": _l("Property company"),
    "enterprise": _l("Enterprise"),
    "volunteer_team": _l("Volunteer team"),
    "mediation_team": _l("Mediation team"),
}
LEVEL_LABELS = {
    "district": _l("District"),
    "street": _l("Street"),
    "community": _l("Community"),
}
LANGUAGE_LABELS = {"zh_CN": "中文", "en": "English"}


class NewUsername:
    """The character set of a new username (the rule itself is services.USERNAME_RE)."""

    def __call__(self, form, field):
        if field.data and not is_valid_username(field.data.strip()):
            raise ValidationError(
                _l(
                    "A username has %(min)d to %(max)d characters: Latin letters, digits, "
                    "dot, underscore or hyphen.",
                    min=USERNAME_MIN,
                    max=USERNAME_MAX,
                )
            )


class DisplayName:
    def __call__(self, form, field):
        if field.data and not is_clean_display_text(field.data):
            raise ValidationError(
                _l("A display name cannot hold invisible, control or right-to-left characters.")
            )


def coerce_optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Remember me for 14 days"))


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=10, max=200)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )


class DigestForm(FlaskForm):
    digest = BooleanField(_l("One message a day summarising my unread notices"))


class LocaleForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=choices(LANGUAGE_LABELS.items()))


class AreaForm(OnceForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    level = SelectField(_l("Level"), choices=choices((k, LEVEL_LABELS[k]) for k in AREA_LEVELS))
    parent_id = SelectField(_l("Parent area"), coerce=coerce_optional_int, validate_choice=True)


class OrganizationForm(OnceForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=choices((k, KIND_LABELS[k]) for k in ORG_KINDS))
    area_id = SelectField(_l("Area"), coerce=coerce_optional_int, validators=[DataRequired()])


class UserForm(OnceForm):
    username = StringField(_l("Username"), validators=[DataRequired(), NewUsername()])
    display_name = StringField(
        _l("Display name"),
        validators=[DataRequired(), Length(max=DISPLAY_NAME_MAX), DisplayName()],
    )
    phone = StringField(_l("Mobile phone"), validators=[Optional(), Phone()])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=10, max=200)])


class UserEditForm(FlaskForm):
    display_name = StringField(
        _l("Display name"),
        validators=[DataRequired(), Length(max=DISPLAY_NAME_MAX), DisplayName()],
    )
    # Never filled from the stored value (a phone is shown masked, even to an admin):
    # left empty it is kept, `remove_phone` clears it (services.update_user).
    phone = StringField(_l("Mobile phone"), validators=[Optional(), Phone()])
    remove_phone = BooleanField(_l("Remove the phone number"))
    active = BooleanField(_l("Account active"))


class MemberForm(OnceForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    role = SelectField(
        _l("Role"), choices=choices((r, ROLE_LABELS[r]) for r in ROLES if r != "admin")
    )
    lead = BooleanField(
        _l("Team lead"),
        description=_l("A volunteer team's lead publishes outreach events for the team."),
    )


class AreaRoleForm(OnceForm):
    """A role held without an organization: admin, or a landlord/volunteer of an area."""

    role = SelectField(
        _l("Role"), choices=choices((r, ROLE_LABELS[r]) for r in ("landlord", "volunteer", "admin"))
    )
    area_id = SelectField(_l("Area"), coerce=coerce_optional_int, validate_choice=True)
