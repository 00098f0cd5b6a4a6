"""The 一幢一册 register of a building (or of a whole site) as CSV or xlsx, for the
ledger download and `flask export-ledger`.

ID numbers and phones are masked for every role but the police of the site's area;
an unmasked export writes an audit event (who, which building or site, never the
values). Cells a spreadsheet would read as a formula (= + - @, tab, CR) are
neutralised with a leading apostrophe. Rows are read in batches (yield_per) and
written as they come: CSV is streamed, xlsx goes through openpyxl's write-only
mode into a temporary file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from community.core import audit
from community.core.crypto import mask_id_number, mask_phone
from community.core.csvout import csv_pieces, neutralise
from community.places.models import Building, Room, Site
from community.residents.documents import DOCUMENT_LABELS
from community.residents.forms import CHANNEL_LABELS, STATUS_LABELS
from community.residents.models import Person, Residence
from community.residents.permissions import polices

FORMATS = ("csv", "xlsx")
EXPORTED = "ledger.exported"
audit.register_actions({EXPORTED: _l("Ledger exported")})


def header() -> list[str]:
    return [
        _("Site"),
        _("Building"),
        _("Room"),
        _("Full name"),
        _("ID number"),
        _("Phone"),
        _("Move-in"),
        _("Move-out"),
        _("Status"),
        _("Channel"),
        _("Late"),
        _("Identity document"),
    ]


def unmasked_for(user: Any, site: Site) -> bool:
    """Only the police of the site's area get the full numbers."""
    return polices(user, site)


def ledger_rows(
    session: Session, *, site: Site, building: Building | None, unmasked: bool
) -> Iterator[list[str]]:
    """The register's rows (site, building, room, person, dates, status, channel,
    late), building by building and room by room, neutralised for spreadsheets."""
    stmt = (
        select(
            Site.name,
            Building.name,
            Room.number,
            Residence.name,
            Person.id_number,
            Residence.phone,
            Residence.move_in,
            Residence.move_out,
            Residence.status,
            Residence.channel,
            Residence.late,
            Person.document_type,
            Person.nationality,
        )
        .join(Residence.room)
        .join(Room.building)
        .join(Building.site)
        .join(Residence.person)
        .where(Site.id == site.id)
        .order_by(Building.name, Room.number, Residence.move_in, Residence.id)
        .execution_options(yield_per=1000)
    )
    if building is not None:
        stmt = stmt.where(Building.id == building.id)
    # Translated now, in the request: the rows are read while the answer streams.
    yes, no = _("yes"), _("no")
    statuses = {k: str(v) for k, v in STATUS_LABELS.items()}
    channels = {k: str(v) for k, v in CHANNEL_LABELS.items()}
    documents_ = {k: str(v) for k, v in DOCUMENT_LABELS.items()}
    return _rows(session, stmt, unmasked, yes, no, statuses, channels, documents_)


def _rows(session, stmt, unmasked, yes, no, statuses, channels, documents_) -> Iterator[list[str]]:
    for row in session.execute(stmt):
        site_name, building_name, room, name, number, phone, moved_in, moved_out = row[:8]
        status, channel, late, document, country = row[8:]
        yield [
            neutralise(v)
            for v in (
                site_name,
                building_name,
                room,
                name,
                number if unmasked else mask_id_number(number),
                phone if unmasked else mask_phone(phone),
                moved_in.isoformat(),
                moved_out.isoformat() if moved_out else "",
                statuses.get(status, status),
                channels.get(channel, channel),
                yes if late else no,
                " · ".join(p for p in (documents_.get(document, document), country) if p),
            )
        ]


def record_export(session: Session, user: Any, obj: Any, fmt: str, unmasked: bool) -> None:
    """An unmasked (police) export is an audit event; flushes."""
    if unmasked:
        audit.record(session, user, EXPORTED, obj, {"format": fmt, "unmasked": True})
        session.flush()


def csv_chunks(rows: Iterator[list[str]]) -> Iterator[str]:
    """CSV text in pieces (core.csvout: BOM first, cells neutralised)."""
    return csv_pieces(header(), rows)


def write_xlsx(rows: Iterator[list[str]], out: IO[bytes] | None = None) -> IO[bytes]:
    """The register as an xlsx workbook written row by row (write-only mode) into
    `out` (default: a temporary file), rewound."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(_("Resident register"))
    sheet.append(header())
    for row in rows:
        sheet.append(row)
    target = out if out is not None else tempfile.TemporaryFile()
    book.save(target)
    target.seek(0)
    return target
