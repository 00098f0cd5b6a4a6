"""The site signs lists repeat per row (admission, 双无), rendered in Python like the
stars (community/core/badges.py); template globals `admitted`, `shuangwu` and
`site_badges`; the association application's status chip (core.badges registry)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from community.core.badges import chip, register_chips
from community.core.translate import translate
from community.places.forms import APPLICATION_STATUS_LABELS
from community.places.queries import is_shuangwu

# An association application: pending, member (approved) or declined.
register_chips(
    "association_application", APPLICATION_STATUS_LABELS, {"approved": "ok", "declined": "warn"}
)


def admitted(site: Any, show_admitted: bool = True, admitted_label: Any = None) -> Markup:
    """Safety admission of a site; `show_admitted=False` shows only the warning."""
    if not site.is_admitted:
        return chip(translate("Not admitted"), "warn", "badge", "not-admitted")
    if show_admitted:
        return chip(admitted_label or translate("Admitted"), "ok", "badge", "admitted")
    return Markup("")


def shuangwu(label: Any = None) -> Markup:
    """双无: no crime or public-security case and no fire in the last 12 months."""
    title = translate("No crime or public-security case and no fire in the last 12 months")
    return chip(label or "双无", "ok", "badge", "shuangwu", title=title)


def site_badges(site: Any, show_admitted: bool = False) -> Markup:
    """The admission and 双无 badges of a site, as lists show them."""
    signs = admitted(site, show_admitted)
    return signs + Markup(" ") + shuangwu() if is_shuangwu(site) else signs
