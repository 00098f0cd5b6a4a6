"""core.writes.RowChanges: submit() rolls a refused step back only when it changed
rows, so a refusal that only read keeps the view's loaded objects usable."""

from __future__ import annotations

import pytest
from sqlalchemy import text, update

from community.accounts.models import Area
from community.core.writes import RowChanges
from tests.factories.accounts import make_area


def test_an_update_that_matches_no_row_is_no_change(session):
    area = make_area(session)
    session.flush()
    with RowChanges(session) as changes:
        session.execute(update(Area).where(Area.id == area.id + 1000).values(name="x"))
    assert not changes.any and not changes.needs_rollback


@pytest.mark.parametrize("textual", [False, True])
def test_an_update_of_a_row_is_a_change(session, textual):
    area = make_area(session)
    session.flush()
    with RowChanges(session) as changes:
        if textual:
            session.execute(text("UPDATE area SET name = 'x' WHERE id = :id"), {"id": area.id})
        else:
            session.execute(update(Area).where(Area.id == area.id).values(name="x"))
    assert changes.any and changes.needs_rollback


def test_changes_undone_by_a_savepoint_do_not_count_released_ones_do(session):
    area = make_area(session)
    session.flush()
    with RowChanges(session) as changes:
        with pytest.raises(ValueError), session.begin_nested():
            session.execute(update(Area).where(Area.id == area.id).values(name="x"))
            raise ValueError
    assert not changes.any
    with RowChanges(session) as changes:
        with session.begin_nested():
            session.execute(update(Area).where(Area.id == area.id).values(name="y"))
    assert changes.any


def test_nothing_is_counted_after_the_block(session):
    area = make_area(session)
    session.flush()
    with RowChanges(session) as changes:
        pass
    session.execute(update(Area).where(Area.id == area.id).values(name="z"))
    assert not changes.any
