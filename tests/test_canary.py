"""The isolation canary: what one test writes, the next never sees."""

from sqlalchemy import func, select

from community.accounts.models import User
from tests.factories.accounts import make_user


def test_first_writer_commits_a_user(session):
    make_user(session, username="canary")
    session.commit()
    assert session.scalar(select(func.count()).select_from(User).where(User.username == "canary"))


def test_second_test_does_not_see_it(session):
    assert not session.scalar(
        select(func.count()).select_from(User).where(User.username == "canary")
    )
