"""Form base classes shared by every feature."""

from __future__ import annotations

import secrets

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectChoice

from community.core.errors import RuleViolation
from community.core.validators import day_range_message, in_day_range, read_date


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def new_submission_token() -> str:
    return secrets.token_urlsafe(24)


class WrittenDateField(DateField):
    """A day as people write it (core.validators.read_date, the spreadsheet
    import's reader too): the browser's date picker sends 2026-12-05, while a
    typed value, a script or a browser without a picker may send 2026/12/05,
    2026.12.05, 2026年12月5日 or 20261205. An unreadable value is refused with the
    forms that are read, and so is a day outside core.validators' EARLIEST_DAY ..
    LATEST_DAY; a blank one is None (the field's validators decide whether it is
    required). Rendered as YYYY-MM-DD, the date input's format."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        day, message = read_date(" ".join(valuelist))
        if day is not None and not in_day_range(day):
            day, message = None, day_range_message()
        self.data = day
        if message:
            raise ValueError(message)


class EmptyForm(FlaskForm):
    """A button-only POST: carries the CSRF token and nothing else."""


class OnceForm(FlaskForm):
    """A form that creates records: carries a one-time submission token (see core.once)."""

    submission_token = HiddenField(default=new_submission_token)


def apply_violation(form: FlaskForm, exc: RuleViolation) -> None:
    """Show a service's RuleViolation on the fields it names (or on the form)."""
    for name, message in exc.errors:
        field = getattr(form, name, None) if name else None
        if field is not None:
            field.errors = [*list(field.errors), message]
        else:
            form.form_errors.append(message)
