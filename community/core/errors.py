"""Errors raised by services and mapped onto forms or status codes by views."""

from __future__ import annotations


class RuleViolation(Exception):
    """A business rule refused the input; `field` names the form field to blame.
    `RuleViolation.several([(field, message), ...])` blames several at once (every
    empty score, not only the first)."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message
        self.errors: list[tuple[str | None, str]] = [(field, message)]

    @classmethod
    def several(cls, errors: list[tuple[str | None, str]]) -> RuleViolation:
        exc = cls(*errors[0])
        exc.errors = list(errors)
        return exc


class NotPermitted(Exception):
    """The acting user may not do this (403)."""


class Conflict(Exception):
    """The action conflicts with the current state (409)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
