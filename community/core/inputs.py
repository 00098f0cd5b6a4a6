"""Text a request may carry: one check of every URL part, query parameter and form field.

What is refused, and where:

- Control characters: C0 (U+0000-U+001F) except tab, newline and carriage
  return; DEL (U+007F); C1 (U+0080-U+009F). Nobody types them, PostgreSQL
  cannot store NUL at all (a 500 before this check) and SQLite stored it
  silently. A URL path part holding one answers 404 (no such page), a query
  parameter 400, a form field 422 -- each with the normal error page. Names
  count as much as values.
- Bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069) and zero-width
  characters (U+200B-U+200D, U+2060, U+FEFF) are *allowed* in general text:
  they are printable formatting that Arabic, Hebrew or Indic text and emoji
  sequences may need, templates escape them, and an address or a hazard note
  holding one cannot pretend to be something else. Where a string identifies
  a person -- usernames and display names -- they are refused (see
  `is_clean_display_text` and accounts.services).

This runs before every view, after the CSRF check, so no feature has to
remember it; a route added later is covered too.
"""

from __future__ import annotations

import re
import unicodedata

from flask import Flask, abort, request
from flask_babel import gettext as _

from community.core.htmx import render

# C0 without \t \n \r, DEL, C1.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Line and paragraph separators: never part of a one-line name.
_LINE_BREAKS = {"\u2028", "\u2029"}


def has_control_chars(value: str) -> bool:
    """True when `value` holds a character no text field accepts (see the module doc)."""
    return CONTROL_CHARS.search(value) is not None


def is_clean_display_text(value: str) -> bool:
    """A one-line name shown to other people: letters of any script, digits, spaces and
    punctuation, but no control (Cc) or format (Cf) characters -- the latter are the bidi
    overrides, isolates and marks, zero-width spaces and joiners, soft hyphens and BOMs
    that make one name look like another -- and no line separators."""
    return not any(unicodedata.category(ch) in ("Cc", "Cf") or ch in _LINE_BREAKS for ch in value)


def _multidict_is_clean(data) -> bool:
    for key, values in data.lists():
        if has_control_chars(key):
            return False
        for value in values:
            if isinstance(value, str) and has_control_chars(value):
                return False
    return True


def _refuse(code: int, message: str):
    return render("errors/error.html", "error", code=code, description=message, status=code)


def check_request_text():
    """before_request: refuse control characters in the path, the query and the form."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and has_control_chars(value):
            abort(404)
    if not _multidict_is_clean(request.args):
        return _refuse(
            400,
            _(
                "The address contains invisible control characters, which are not accepted. "
                "Check the link and try again."
            ),
        )
    if request.method in ("POST", "PUT", "PATCH") and not _multidict_is_clean(request.form):
        return _refuse(
            422,
            _(
                "The form contains invisible control characters (such as a NUL byte), which "
                "cannot be saved. Go back, remove them and send the form again."
            ),
        )
    return None


def refuse_nameless_fields():
    """before_request, ahead of the CSRF check (which reads every field's name): a part
    of a multipart body without a name is a malformed form (no browser sends one, a
    script may), answered 400. Werkzeug keeps such a part under the name None, on
    which the CSRF check and check_request_text failed with a 500 (found by
    tests/sweeps/test_fuzz.py)."""
    if request.method in ("POST", "PUT", "PATCH") and (
        None in request.form or None in request.files
    ):
        return _refuse(
            400,
            _(
                "The form could not be read: one of its fields has no name. "
                "Reload the page and send it again."
            ),
        )
    return None


def init_inputs(app: Flask) -> None:
    app.before_request(check_request_text)


def init_form_names(app: Flask) -> None:
    """Register refuse_nameless_fields; call before csrf.init_app (hooks run in order)."""
    app.before_request(refuse_nameless_fields)


__all__ = [
    "CONTROL_CHARS",
    "has_control_chars",
    "init_form_names",
    "init_inputs",
    "is_clean_display_text",
]
