"""The small status signs every list repeats per row (stars, status chips), rendered
in Python: as Jinja macros they cost a macro call each, and a list of 25 rows made
a hundred of them. Template globals `stars` and `chip`; tests find them by their
data-* attributes (data-stars, data-badge, data-status)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape


def stars(n: int | None) -> Markup:
    """n stars out of 5; "Not rated" when n is empty."""
    from community.core.templating import translate

    if not n:
        return Markup(
            f'<span class="badge" data-stars="none">{escape(translate("Not rated"))}</span>'
        )
    n = int(n)
    label = escape(translate("%(n)d of 5 stars", n=n))
    return Markup(
        f'<span class="stars" data-stars="{n}" role="img" aria-label="{label}" title="{label}">'
        f'{"★" * n}<span class="stars-off">{"☆" * (5 - n)}</span></span>'
    )


def chip(
    label: Any,
    tone: str | None = None,
    data: str | None = None,
    value: Any = None,
    cls: str | None = None,
    title: Any = None,
) -> Markup:
    """A status chip: tone "ok" (green), "warn" (red) or none (neutral); `data` names
    the data-* attribute (data="status" -> data-status="<value>"); `cls` adds classes."""
    classes = "badge" + (f" badge-{tone}" if tone else "") + (f" {cls}" if cls else "")
    attributes = f' data-{escape(data)}="{escape(value)}"' if data else ""
    if title:
        attributes += f' title="{escape(title)}"'
    return Markup(f'<span class="{escape(classes)}"{attributes}>{escape(label)}</span>')
