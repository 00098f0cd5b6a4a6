"""Pagination of list pages: one COUNT and one page of rows, whatever the table size.

`parse_page` never fails: a missing or nonsense ?page= gives page 1, a page past
the end gives the last page, so a shared or edited URL always answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

PER_PAGE = 25


def parse_page(value: Any) -> int:
    """A page number >= 1 from a query-string value; anything else is page 1."""
    try:
        page = int(str(value).strip())
    except (TypeError, ValueError):
        return 1
    return page if 1 <= page <= 1_000_000 else 1


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int
    # The page's route for its links (default: the request's own; a list also
    # rendered by a POST route names its GET route here).
    endpoint: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        """1-based position of the first row shown (0 when there are none)."""
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.page * self.per_page, self.total)

    def url(self, page: int) -> str:
        """The current URL (endpoint, view arguments and query string) at another page."""
        args = request.args.to_dict()
        args["page"] = str(page)
        if self.endpoint is not None and self.endpoint != request.endpoint:
            return url_for(self.endpoint, **args)
        return url_for(request.endpoint, **(request.view_args or {}), **args)


def paginate(session: Session, stmt: Select, page: int, per_page: int = PER_PAGE) -> Page:
    """Run `stmt` (ordered, without LIMIT) for one page; clamps `page` to the last page."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = min(max(page, 1), max(1, -(-total // per_page)))
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items=items, page=page, per_page=per_page, total=total)


__all__ = ["PER_PAGE", "Page", "paginate", "parse_page"]
