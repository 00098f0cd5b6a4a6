"""CSV downloads: UTF-8 with a BOM first (Excel then reads the Chinese), written in
pieces so a long export streams, and every text cell neutralised so that no
spreadsheet runs it as a formula (a leading =, +, -, @, tab or CR gets an
apostrophe). Numbers stay numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """A cell value as text that no spreadsheet runs as a formula."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_pieces(
    header: Iterable[Any], rows: Iterable[Iterable[Any]], every: int = 500
) -> Iterator[str]:
    """The BOM, the header row and the rows, neutralised, in pieces of `every` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([neutralise(v) for v in header])
    for n, row in enumerate(rows, start=1):
        writer.writerow([neutralise(v) for v in row])
        if n % every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


__all__ = ["csv_pieces", "neutralise"]
