"""Read side of the review queue.

The page costs the same number of queries whatever the number of waiting items:
the counts per kind (one query, as the badge's), one page of (kind, id) keys over
a UNION ALL of every kind's pending SELECT, ordered by `since` (oldest first
across kinds) with LIMIT/OFFSET; then one query per kind present on the page
loads its rows shown (title, area, ...).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from threading import Lock
from typing import Any

from sqlalchemy import DateTime, Select, func, literal_column, select, union_all
from sqlalchemy.orm import Session

from community.accounts.models import Area, User
from community.accounts.permissions import can, memberships
from community.core.models import AuditEvent
from community.core.nav import BADGE_MAX
from community.core.pagination import PER_PAGE, Page
from community.core.reviews import ReviewKind, kinds_for
from community.core.timeutil import local_day, today
from community.reviews.permissions import review_area_paths


@dataclass
class ReviewRow:
    kind: ReviewKind
    id: int
    title: str
    since: date | datetime | None
    area_name: str
    linked: bool = True  # the reviewer may open the object's page (kind.link_action)

    @property
    def key(self) -> str:
        return f"{self.kind.name}-{self.id}"

    @property
    def link(self) -> str | None:
        return self.kind.link(self.id) if self.linked else None


def opens_link(user: Any, kind: ReviewKind) -> bool:
    """Whether the kind's link leads `user` to a page they may open."""
    return kind.link_action is None or can(user, kind.link_action)


def _kind_name(kind: ReviewKind):
    # Kind names are checked identifiers (register_review_kind): safe as SQL text.
    return literal_column(f"'{kind.name}'").label("kind")


def _in_area(column, area: Area | None):
    return column.in_(select(Area.id).where(Area.path.like(f"{area.path}%")))


def _keys(kind: ReviewKind, user: Any, area: Area | None) -> Select:
    sub = kind.pending(user).subquery()
    # Urgent items first (a foreigner's registration, due within 24 hours), then
    # oldest first by local day: a kind waiting since a moment (a report's timestamp,
    # stored in UTC) and one due since a day (a site's next inspection) compare by
    # the local day they fall on, a whole day's items first on their day, moments in
    # time order after them. Compared raw, a date sorted after every timestamp of
    # the same UTC date once the local day had turned (00:00-08:00 in Shanghai).
    since = sub.c.since
    moment = isinstance(since.type, DateTime)
    stmt = select(
        _kind_name(kind),
        sub.c.id.label("id"),
        sub.c.urgent.label("urgent"),
        (local_day(since) if moment else since).label("day"),
        literal_column("1" if moment else "0").label("moment"),
        since.label("since"),
    )
    if area is not None:
        stmt = stmt.where(_in_area(sub.c.area_id, area))
    return stmt


def _union(stmts: list[Select]):
    return (stmts[0] if len(stmts) == 1 else union_all(*stmts)).subquery()


def _keys_page(user: Any, kinds: list[ReviewKind], area: Area | None) -> Select:
    union = _union([_keys(k, user, area) for k in kinds])
    return select(union.c.kind, union.c.id).order_by(
        union.c.urgent.desc(), union.c.day, union.c.moment, union.c.since, union.c.kind, union.c.id
    )


def queue_kinds(user: Any, kind: str | None = None) -> list[ReviewKind]:
    return [k for k in kinds_for(user) if not kind or k.name == kind]


def list_queue(
    session: Session,
    user: Any,
    *,
    kind: str | None = None,
    area: Area | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """What waits for `user` (of one kind, in one area subtree), oldest first."""
    kinds = queue_kinds(user, kind)
    if not kinds:
        return Page(items=[], page=1, per_page=per_page, total=0)
    # Counted per kind without the page's columns (the order key of some kinds is
    # date arithmetic on every row): the badge's statement, kept per scope.
    found = counts(session, user, area=area)
    total = sum(found[k.name] for k in kinds)
    page = min(max(page, 1), max(1, -(-total // per_page)))
    keys = session.execute(
        _kept(("keys", *_scope_key(user, kinds, area, None)), lambda: _keys_page(user, kinds, area))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    rows = load_rows(session, user, [(k, i) for k, i in keys])
    items = [rows[(k, i)] for k, i in keys if (k, i) in rows]
    return Page(items=items, page=page, per_page=per_page, total=total)


def load_rows(session: Session, user: Any, keys: list[tuple[str, int]]) -> dict:
    """(kind name, id) -> ReviewRow for the keys still waiting for `user`; one query
    per kind among the keys."""
    by_kind: dict[str, list[int]] = {}
    for name, id_ in keys:
        by_kind.setdefault(name, []).append(id_)
    found = {}
    for kind in kinds_for(user):
        ids = by_kind.get(kind.name)
        if not ids:
            continue
        sub = kind.pending(user).subquery()
        stmt = (
            select(sub, Area.name.label("area_name"))
            .join(Area, Area.id == sub.c.area_id)
            .where(sub.c.id.in_(ids))
        )
        linked = opens_link(user, kind)
        for row in session.execute(stmt):
            found[(kind.name, row.id)] = ReviewRow(
                kind, row.id, kind.title(row), row.since, row.area_name, linked
            )
    return found


def get_row(session: Session, user: Any, kind: ReviewKind, id_: int) -> ReviewRow | None:
    return load_rows(session, user, [(kind.name, id_)]).get((kind.name, id_))


# The badge and the start page count each kind up to here and show "99+" beyond
# (core.nav.BADGE_MAX): their cost stays bounded however much waits.
COUNT_CAP = BADGE_MAX + 1


def _count(kind: ReviewKind, user: Any, area: Area | None, cap: int | None) -> Select:
    rows = kind.pending(user).subquery()
    if area is not None or cap is not None:
        keys = select(rows.c.id)
        if area is not None:
            keys = keys.where(_in_area(rows.c.area_id, area))
        rows = keys.limit(cap).subquery() if cap is not None else keys.subquery()
    return select(_kind_name(kind), func.count().label("n")).select_from(rows)


# The badge runs counts() on every page a reviewer opens, the dashboard once more
# for its area, the queue its page of keys. Building the UNION of every kind's
# scoped SELECT costs several times more Python than running it, so the built
# statements are kept per reviewer scope. The key holds everything a kind's
# pending(user) reads (the user, their memberships, the paths of the areas they
# cover, the date for due dates) and the arguments (kinds, area path, cap): any
# change makes a new statement. Only the SQL is reused, never a result.
_KEPT: OrderedDict[tuple, Select] = OrderedDict()
_KEPT_MAX = 512
_kept_lock = Lock()


def _scope_key(user: Any, kinds: list[ReviewKind], area: Area | None, cap: int | None) -> tuple:
    return (
        user.id,
        area.path if area is not None else None,
        cap,
        today(),
        tuple(k.name for k in kinds),
        tuple(sorted((m.role, m.area_id or 0, m.organization_id or 0) for m in memberships(user))),
        review_area_paths(user),
    )


def _kept(key: tuple, build: Callable[[], Select]) -> Select:
    with _kept_lock:
        stmt = _KEPT.get(key)
        if stmt is not None:
            _KEPT.move_to_end(key)
            return stmt
    stmt = build()
    with _kept_lock:
        _KEPT[key] = stmt
        while len(_KEPT) > _KEPT_MAX:
            _KEPT.popitem(last=False)
    return stmt


def _count_statement(
    user: Any, kinds: list[ReviewKind], area: Area | None, cap: int | None
) -> Select:
    def build() -> Select:
        union = _union([_count(k, user, area, cap) for k in kinds])
        return select(union.c.kind, union.c.n)

    return _kept(("count", *_scope_key(user, kinds, area, cap)), build)


def counts(
    session: Session, user: Any, *, area: Area | None = None, cap: int | None = None
) -> dict[str, int]:
    """kind name -> items waiting for `user` (kinds with none included), one query;
    with `area` only the items in its subtree (as the queue's area filter); with
    `cap` each kind counted up to `cap` (COUNT_CAP for the badge and the start
    page)."""
    kinds = kinds_for(user)
    if not kinds:
        return {}
    found = dict(session.execute(_count_statement(user, kinds, area, cap)).all())
    return {k.name: int(found.get(k.name, 0)) for k in kinds}


def decided_by(session: Session, kind: ReviewKind, id_: int) -> str | None:
    """Who decided the item last (its latest audit event), for "already decided by"."""
    if kind.audit_type is None:
        return None
    return session.scalar(
        select(User.display_name)
        .join(AuditEvent, AuditEvent.actor_id == User.id)
        .where(AuditEvent.object_type == kind.audit_type, AuditEvent.object_id == id_)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
