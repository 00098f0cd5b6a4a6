"""Factories for hazards: a site to report at and hazards in any state."""

from __future__ import annotations

import itertools
from io import BytesIO

from PIL import Image

from community.ratings.models import Hazard
from community.ratings.services import hazards as services

_seq = itertools.count(1)


def make_site(session, *, area, landlord=None, company=None, association=None, name=None):
    """tests.factories_places.make_site when the places work provides it, else a plain row."""
    try:
        from tests.factories_places import make_site as places_make_site
    except ImportError:
        places_make_site = None
    if places_make_site is not None:
        return places_make_site(
            session,
            area=area,
            landlord=landlord,
            company=company,
            association=association,
            name=name,
        )
    from community.places.models import Site

    n = next(_seq)
    site = Site(
        name=name or f"hazard-site-{n}",
        kind="rental_house",
        address=f"{n} Hazard Road",
        area_id=area.id,
        landlord_id=landlord.id if landlord is not None else None,
        company_id=company.id if company is not None else None,
        association_id=association.id if association is not None else None,
    )
    session.add(site)
    session.flush()
    return site


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
) -> Hazard:
    """A hazard reported at `site` through the service (so it is assigned), then moved
    to `status` ("open", "fixed", "closed"); `reopened` fixes and reopens it first.
    `actor` (default: the reporter) performs the steps."""
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
