"""Hazard forms: report (with an optional photo), fix note, reopen reason, list filters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from community.accounts.forms import ROLE_LABELS
from community.core.forms import OnceForm, choices
from community.core.uploads import MaxUploadBytes
from community.hazards.models import HAZARD_STATES, SEVERITIES

SEVERITY_LABELS = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High")}
STATUS_LABELS = {"open": _l("Open"), "fixed": _l("Fixed"), "closed": _l("Closed")}
# List filters: "" (the default) means every hazard that is not closed yet.
STATUS_FILTERS = {
    "": _l("Open or fixed"),
    **{state: STATUS_LABELS[state] for state in HAZARD_STATES},
    "all": _l("All"),
}
# "area" reads "In my area" only for roles with a jurisdiction (see tab_labels_for).
TAB_LABELS = {
    "assigned": _l("Assigned to me"),
    "area": _l("In my area"),
    "reported": _l("Reported by me"),
}
# Label tables every hazard template gets (so each block renders alone).
LABELS = {"severity_labels": SEVERITY_LABELS, "status_labels": STATUS_LABELS}
# Keep in step with core.uploads.FORMATS.
PHOTO_EXTENSIONS = ["jpg", "jpeg", "png"]


class HazardForm(OnceForm):
    description = TextAreaField(
        _l("What is the hazard?"), validators=[DataRequired(), Length(max=1000)]
    )
    severity = SelectField(
        _l("Severity"),
        choices=choices((s, SEVERITY_LABELS[s]) for s in SEVERITIES),
        default="medium",
    )
    photo = FileField(
        _l("Photo (optional)"),
        validators=[
            FileAllowed(PHOTO_EXTENSIONS, _l("Only JPEG or PNG photos are accepted.")),
            MaxUploadBytes(),
        ],
    )


class AssignForm(FlaskForm):
    """The choices are set by the view from services.list_assignees; whether the
    chosen person may be assigned is the service's rule (validate_choice=False)."""

    assignee = SelectField(
        _l("Assign to"), choices=[], validators=[DataRequired()], validate_choice=False
    )


def assignee_label(person) -> str:
    """ "Name · roles · organisations" for the assign form's choice."""
    roles = " / ".join(str(ROLE_LABELS.get(r, r)) for r in person.roles)
    return " · ".join(p for p in (person.name, roles, " / ".join(person.organizations)) if p)


def assignee_choices(people) -> list[tuple[str, str]]:
    return [("", _l("Choose a person"))] + [(str(p.id), assignee_label(p)) for p in people]


class FixForm(FlaskForm):
    note = TextAreaField(_l("What was done?"), validators=[DataRequired(), Length(max=1000)])
    photo = FileField(
        _l("Photo of the result (optional)"),
        validators=[
            FileAllowed(PHOTO_EXTENSIONS, _l("Only JPEG or PNG photos are accepted.")),
            MaxUploadBytes(),
        ],
    )


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is it not fixed?"), validators=[DataRequired(), Length(max=1000)]
    )


AT_MY_SITES = _l("At my sites")


def tab_labels_for(has_jurisdiction: bool) -> dict:
    if has_jurisdiction:
        return TAB_LABELS
    return {**TAB_LABELS, "area": AT_MY_SITES}


class HazardFilterForm(FlaskForm):
    """The list's query string; no CSRF (a GET)."""

    class Meta:
        csrf = False

    tab = SelectField(_l("Show"), choices=choices(TAB_LABELS.items()), validate_choice=True)
    status = SelectField(
        _l("Status"), choices=choices(STATUS_FILTERS.items()), default="", validate_choice=True
    )
    site = IntegerField(_l("Site"), validators=[Optional(), NumberRange(min=1)])
