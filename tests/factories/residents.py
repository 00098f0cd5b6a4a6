"""Factories for residents: valid synthetic ID numbers and residences in any state."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from community.core import timeutil
from community.core.validators import check_digit
from community.residents import services
from community.residents.models import Residence

_seq = itertools.count(1)


def id_number(born: date = date(1990, 1, 1), serial: int | None = None, male: bool = True) -> str:
    """A valid 18-character number (region 330302, the given birth date, a serial
    whose last digit is odd for men) with its GB 11643 check digit."""
    n = next(_seq) if serial is None else serial
    seq = (n * 2 + (1 if male else 0)) % 1000
    first17 = f"330302{born:%Y%m%d}{seq:03d}"
    return first17 + check_digit(first17)


def make_residence(
    session,
    *,
    room,
    reporter=None,
    channel="landlord",
    status="pending",
    decider=None,
    name=None,
    number=None,
    phone="13812345678",
    move_in: date | None = None,
    reason="Wrong room",
    today: date | None = None,
    **document,
) -> Residence:
    """A residence reported through the service in `room` (with building and site
    loaded), then verified or rejected by `decider` when `status` says so;
    `document` holds another identity document's fields (document_type, ...)."""
    residence = services.report_residence(
        session,
        reporter,
        room,
        name=name or f"居民{next(_seq)}",
        id_number=number or id_number(),
        phone=phone,
        move_in=move_in or timeutil.today() - timedelta(days=1),
        channel=channel,
        today=today,
        **document,
    )
    if status == "verified" and residence.status != "verified":
        services.verify_residence(session, decider, residence)
    elif status == "rejected":
        services.reject_residence(session, decider, residence, reason)
    return residence
