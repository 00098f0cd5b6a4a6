"""Factories for hazards in any state, and test images for their photos."""

from __future__ import annotations

import itertools
from datetime import datetime
from io import BytesIO

from PIL import Image

from community.hazards import services
from community.hazards.models import Hazard

_seq = itertools.count(1)


def make_hazard(
    session,
    *,
    site,
    reporter=None,
    actor=None,
    description=None,
    severity="medium",
    status="open",
    reopened=False,
    photo=None,
    created_at: datetime | None = None,
    fixed_at: datetime | None = None,
    closed_at: datetime | None = None,
) -> Hazard:
    """A hazard reported at `site` through the service (so it is assigned), then moved
    to `status` ("open", "fixed", "closed"); `reopened` fixes and reopens it first.
    `actor` (default: the reporter) performs the steps. With `created_at` the row is
    written as it stood at those times instead (no workflow: for the criteria that
    read the timestamps)."""
    if created_at is not None:
        hazard = Hazard(
            site_id=site.id,
            description=description or "Blocked escape route",
            severity=severity,
            status=status,
            created_at=created_at,
            fixed_at=fixed_at,
            closed_at=closed_at,
        )
        session.add(hazard)
        session.flush()
        return hazard
    hazard = services.report_hazard(
        session,
        reporter,
        site,
        description=description or f"hazard {next(_seq)}",
        severity=severity,
        photo=photo,
    )
    actor = actor or reporter
    if reopened:
        services.fix_hazard(session, actor, hazard, "first fix")
        services.reopen_hazard(session, actor, hazard, "not really fixed")
    if status in ("fixed", "closed"):
        services.fix_hazard(session, actor, hazard, "fixed it")
    if status == "closed":
        services.close_hazard(session, actor, hazard)
    return hazard


def image_bytes(fmt="JPEG", size=(64, 48), color=(200, 30, 30), exif=None, mode="RGB") -> bytes:
    """An image file in memory; `exif` is a PIL.Image.Exif to embed (JPEG)."""
    img = Image.new(mode, size, color)
    out = BytesIO()
    kwargs = {}
    if exif is not None:
        kwargs["exif"] = exif
    img.save(out, fmt, **kwargs)
    return out.getvalue()


def gps_exif(orientation: int | None = None) -> Image.Exif:
    """EXIF with a GPS position (Hangzhou), a camera model and optionally an orientation."""
    exif = Image.Exif()
    exif[0x0110] = "Secret Phone 12"  # Model
    exif[0x010F] = "Maker"  # Make
    if orientation is not None:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (30.0, 15.0, 0.0)
    gps[3] = "E"
    gps[4] = (120.0, 10.0, 0.0)
    return exif
