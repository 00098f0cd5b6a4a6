"""The compliance page's form: a yellow card to a landlord or company."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from community.core.forms import OnceForm


class YellowCardForm(OnceForm):
    """POST /compliance/cards: target ("user-<id>" or "org-<id>"), month (YYYY-MM),
    reason. Whether the target reported in the police's area that month is checked
    against the compliance rows."""

    target = HiddenField(validators=[DataRequired(), Length(max=30)])
    month = HiddenField(validators=[DataRequired(), Length(max=7)])
    reason = StringField(
        _l("Why is the yellow card issued?"),
        validators=[
            DataRequired(message=_l("Say why the yellow card is issued.")),
            Length(max=255),
        ],
    )
