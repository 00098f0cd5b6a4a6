"""The spreadsheet upload form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired

from community.core.forms import OnceForm


class ImportForm(OnceForm):
    """The spreadsheet upload; what the file must hold is checked by imports.files.read_rows."""

    file = FileField(
        _l("Spreadsheet (CSV or xlsx)"),
        validators=[FileRequired(message=_l("Choose a CSV or xlsx file."))],
    )
