"""The small status signs every list repeats per row (stars, status chips), rendered
in Python: as Jinja macros they cost a macro call each, and a list of 25 rows made
a hundred of them. Template globals `stars`, `chip` and `status_chip`; tests find
them by their data-* attributes (data-stars, data-badge, data-status).

Status chips have one registry: each feature registers, in its `badges.py`, a kind
(its states' labels and colours); templates call `status_chip(status, kind)` and
never choose a label or colour themselves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from community.core.translate import translate


def stars(n: int | None) -> Markup:
    """n stars out of 5; "Not rated" when n is empty."""
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


@dataclass(frozen=True)
class ChipKind:
    """The chips of one kind of status. `labels`: state -> label (lazy strings);
    `tones`: state -> "ok" or "warn" (a state not named is neutral); `data`: the
    data-* attribute carrying the state; `cls`: extra classes, "{state}" replaced
    (hazards colour their chips in app.css by class)."""

    labels: Mapping[str, Any]
    tones: Mapping[str, str]
    data: str = "status"
    cls: str | None = None


_KINDS: dict[str, ChipKind] = {}


def register_chips(
    kind: str,
    labels: Mapping[str, Any],
    tones: Mapping[str, str] | None = None,
    *,
    data: str = "status",
    cls: str | None = None,
) -> None:
    """Register the chips of `kind`; a kind registered twice is a programming error."""
    if kind in _KINDS:
        raise ValueError(f"status chip kind {kind!r} is registered twice")
    unknown = set(tones or {}) - set(labels)
    if unknown:
        raise ValueError(f"status chip kind {kind!r}: tones of unknown states {sorted(unknown)}")
    _KINDS[kind] = ChipKind(labels, dict(tones or {}), data, cls)


def chip_kinds() -> dict[str, ChipKind]:
    return dict(_KINDS)


def status_chip(status: Any, kind: str) -> Markup:
    """The chip of `status` as registered for `kind` (an unknown kind raises KeyError;
    an unregistered state shows itself, neutral)."""
    spec = _KINDS[kind]
    state = "" if status is None else str(status)
    cls = spec.cls.format(state=state) if spec.cls else None
    return chip(spec.labels.get(state, state), spec.tones.get(state), spec.data, state, cls=cls)
