"""Review kinds: what waits for someone's decision, contributed by the features.

The review queue (community.reviews, layer 5) lists everything waiting for a
user's decision, but it knows no feature. Each feature registers one ReviewKind
per kind of item at import time of its package (`register_review_kind(...)` in
its own `reviews.py`, imported by its `__init__.py`), like navigation entries and
site panels. Adding a kind touches only the feature's package.

A kind gives the queue:

- `name` (the URL segment of `/reviews/<name>/<id>` and the `?kind=` filter) and
  `label` (a lazy string);
- `reviewer(user)`: does this user's queue hold this kind at all? Cheap (roles
  through a permission rule, no SQL of its own);
- `pending(user)`: a SELECT of the items waiting for this user, already limited
  to the user's scope, with the columns labelled `id`, `title` (no personal data
  of residents), `since` (date or datetime: the queue is oldest first across
  kinds), `area_id` (the area filter) and `urgent` (1: first, whatever its age);
  extra columns are passed on to
  `describe`. The queue wraps it in a subquery (UNION ALL of every kind for the
  page, `WHERE id IN (...)` to load the rows shown), so it must not be ordered
  or limited. `pending_select(...)` starts it with the columns labelled. What it
  selects may depend on the user, the database and the local date (`today()`),
  nothing finer: the navigation's badge counts it once per data version and day
  (core.nav);
- `get(session, id)`: the object (None for an id no row can have: `by_id`), and
  the permission actions that guard it: `view_action` (404 when refused) and
  `decide_action` (403 when refused);
- `link(id)`: the object's own page; `link_action`, when that page asks a
  permission some reviewers lack (police decide association applications but
  the associations page is the officers' and landlords'): those reviewers see
  the title without a link rather than a link to a 403;
- `approve(session, user, obj)` and `reject(session, user, obj, reason)`: calls
  of the feature's existing services. They flush, never commit, and raise
  Conflict when someone already decided and RuleViolation("reason") when the
  reason is missing (the queue does not check it again: `require_reason` is
  the check, in the service). A kind without them is link-only (an inspection due is
  done on its own page): `action_label` names what the link does;
- `audit_type`: the object_type of its audit events ("already decided by …" is
  read from the latest one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, literal, select
from sqlalchemy.orm import Session

from community.core.errors import RuleViolation
from community.core.validators import is_id


@dataclass(frozen=True)
class ReviewKind:
    name: str
    label: Any
    reviewer: Callable[[Any], bool]
    pending: Callable[[Any], Select]
    get: Callable[[Session, int], Any]
    view_action: str
    decide_action: str
    link: Callable[[int], str]
    link_action: str | None = None
    approve: Callable[[Session, Any, Any], Any] | None = None
    reject: Callable[[Session, Any, Any, str], Any] | None = None
    describe: Callable[[Any], str] | None = None  # row -> title (default: row.title)
    action_label: Any = None  # link-only kinds: what the link does
    audit_type: str | None = None
    order: int = 50

    @property
    def decidable(self) -> bool:
        return self.approve is not None or self.reject is not None

    def title(self, row: Any) -> str:
        return self.describe(row) if self.describe is not None else str(row.title)


_KINDS: dict[str, ReviewKind] = {}


def register_review_kind(kind: ReviewKind) -> ReviewKind:
    if not kind.name.replace("_", "").isalpha() or not kind.name.islower():
        raise ValueError(f"review kind name {kind.name!r}: lower-case letters and _ only")
    if kind.name in _KINDS and _KINDS[kind.name] != kind:
        raise KeyError(f"review kind {kind.name!r} registered twice")
    _KINDS[kind.name] = kind
    return kind


def review_kinds() -> list[ReviewKind]:
    return sorted(_KINDS.values(), key=lambda k: (k.order, k.name))


def review_kind(name: str) -> ReviewKind | None:
    return _KINDS.get(name)


def kinds_for(user: Any) -> list[ReviewKind]:
    """The kinds in `user`'s queue, in order."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return [k for k in review_kinds() if k.reviewer(user)]


def pending_select(
    id: Any, title: Any, since: Any, area_id: Any, *, urgent: Any = None, **extra: Any
) -> Select:
    """The start of a kind's `pending` SELECT: the contract's columns labelled `id`,
    `title`, `since`, `area_id` and `urgent` (1 for an item that goes before every
    other, whatever its age — a foreigner's registration, due within 24 hours —
    else 0: the default), then `extra` ones (for `describe`) under their keyword;
    the kind adds its joins and its WHERE (state and the user's scope)."""
    columns = {
        "id": id,
        "title": title,
        "since": since,
        "area_id": area_id,
        "urgent": literal(0) if urgent is None else urgent,
        **extra,
    }
    return select(*(column.label(name) for name, column in columns.items()))


def by_id(load: Callable[[Session, int], Any] | type) -> Callable[[Session, int], Any]:
    """A kind's `get`: `load(session, id)` (a query function) or `session.get` of a
    model class, and None for an id no row can have (core.validators.is_id)."""
    if isinstance(load, type):
        model = load
        return lambda session, id: session.get(model, id) if is_id(id) else None
    return lambda session, id: load(session, id) if is_id(id) else None


# The column every reason is written to: String(255).
REASON_LENGTH = 255


def require_reason(reason: str | None, message: str, limit: int = REASON_LENGTH) -> str:
    """A decision's reason (a rejection, a dismissal, a card, a reopened hazard)
    with its spaces collapsed. RuleViolation("reason", message) when empty,
    ("reason", "At most N characters.") when longer than `limit` (its column). The
    one check of a reason: every deciding service calls it, the review queue passes
    the reason on."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise RuleViolation("reason", message)
    if len(reason) > limit:
        raise RuleViolation("reason", _("At most %(n)d characters.", n=limit))
    return reason


__all__ = [
    "ReviewKind",
    "by_id",
    "kinds_for",
    "pending_select",
    "register_review_kind",
    "require_reason",
    "review_kind",
    "review_kinds",
]
