"""Errors raised by services and mapped onto forms or status codes by views."""

from __future__ import annotations


class RuleViolation(Exception):
    """A business rule refused the input; `field` names the form field to blame."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class NotPermitted(Exception):
    """The acting user may not do this (403)."""


class Conflict(Exception):
    """The action conflicts with the current state (409)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
