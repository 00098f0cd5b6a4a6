"""Sections of the start page `/`, contributed by the features.

The start page shows each user what waits for them (a police liaison's review
counts, a landlord's reports due, a volunteer's next duty, the area dashboard),
and accounts knows none of those features. Each package registers a section
function at import time; it gets the session and the user and returns a
StartSection, or None when it has nothing for this user (the role does not
apply, or nothing is due). Sections render in `order`; their templates get
`section` (and `section.context`) in their context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session


@dataclass
class StartSection:
    template: str
    order: int = 50
    context: dict[str, Any] = field(default_factory=dict)


SectionFunction = Callable[[Session, Any], StartSection | None]
_SECTIONS: list[SectionFunction] = []


def register_start_section(fn: SectionFunction) -> SectionFunction:
    if fn not in _SECTIONS:
        _SECTIONS.append(fn)
    return fn


def start_sections(session: Session, user: Any) -> list[StartSection]:
    found = (fn(session, user) for fn in _SECTIONS)
    return sorted((s for s in found if s is not None), key=lambda s: s.order)
