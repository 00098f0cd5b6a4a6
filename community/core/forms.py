"""Form base classes shared by every feature."""

from __future__ import annotations

import secrets

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice

from community.core.errors import RuleViolation


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def new_submission_token() -> str:
    return secrets.token_urlsafe(24)


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
