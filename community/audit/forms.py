"""The audit page's filters (a GET query string)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional

from community.core.validators import InDayRange


class AuditFilterForm(FlaskForm):
    """No CSRF (a GET). Every field is optional; an invalid one is ignored."""

    class Meta:
        csrf = False

    user = StringField(_l("User"), validators=[Optional(), Length(max=80)])
    object_type = StringField(_l("Object type"), validators=[Optional(), Length(max=64)])
    object_id = IntegerField(
        _l("Object id"), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)]
    )
    # Choices: the registered actions by name (set by the view); any code still
    # filters, so an older link with `action=residence.revealed` keeps working.
    action = SelectField(
        _l("Action"), choices=[], validators=[Optional(), Length(max=64)], validate_choice=False
    )
    date_from = DateField(_l("From"), validators=[Optional(), InDayRange()])
    date_to = DateField(_l("To"), validators=[Optional(), InDayRange()])
