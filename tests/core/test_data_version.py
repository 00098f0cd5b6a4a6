"""The data version (core.writes) and each user's navigation kept under it (core.nav):
every committed write, by anyone, replaces the token, so no page shows a navigation
or a badge decided before it; while nothing is written a user's pages reuse theirs
without deciding it again."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text

from community.accounts import services as accounts
from community.core import nav
from community.core.models import DataVersion, Notification
from community.core.writes import data_token
from community.extensions import db
from tests.conftest import PASSWORD, logged_in
from tests.factories.accounts import get_user, make_role_user, make_user


def _token(session) -> int:
    return session.scalar(select(DataVersion.token))


def test_a_committed_write_replaces_the_token_and_a_read_does_not(session):
    before = _token(session)
    session.commit()  # nothing written
    assert _token(session) == before
    make_user(session)
    session.commit()
    after = _token(session)
    assert after != before
    # A textual statement counts as a write too.
    session.execute(text("UPDATE data_version SET id = id WHERE id = -1"))
    session.commit()
    assert _token(session) != after


def test_a_transaction_that_wrote_gets_no_token_until_it_commits(session):
    assert data_token(session) == _token(session)
    make_user(session)  # flushed, not committed: nobody else's state
    assert data_token(session) is None
    session.commit()
    assert data_token(session) == _token(session)


def test_a_rolled_back_write_leaves_the_token_as_it_was(session):
    before = _token(session)
    session.commit()
    make_user(session)
    session.rollback()
    assert _token(session) == before


def _statements(count_queries, client, path: str) -> tuple[str, list[str]]:
    with count_queries() as q:
        page = client.get(path).get_data(as_text=True)
    return page, q.statements


def _volunteer(app):
    with app.app_context():
        user = make_role_user(db.session, "volunteer", password=PASSWORD)
        db.session.commit()
        return user.username


def test_a_users_navigation_is_reused_until_someone_writes(app, client, login, count_queries):
    login(_volunteer(app))
    client.get("/notifications/")
    page, statements = _statements(count_queries, client, "/notifications/")
    assert "nav-primary" in page
    # Decided before: neither the memberships nor anything else of the bar is read.
    assert not [s for s in statements if "FROM membership" in s]
    with app.app_context():  # someone else writes something unrelated
        make_user(db.session)
        db.session.commit()
    _, statements = _statements(count_queries, client, "/notifications/")
    assert [s for s in statements if "FROM membership" in s]


def test_a_role_granted_by_someone_else_shows_on_the_next_page(app, client, login):
    username = _volunteer(app)
    login(username)
    assert 'href="/audit/"' not in client.get("/notifications/").get_data(as_text=True)
    assert 'href="/audit/"' not in client.get("/notifications/").get_data(as_text=True)
    with app.app_context():
        accounts.add_membership(db.session, None, get_user(db.session, username), "admin")
        db.session.commit()
    assert 'href="/audit/"' in client.get("/notifications/").get_data(as_text=True)


def _badge(page: str) -> str:
    match = re.search(r'id="nav-badge-notifications-index"[^>]*data-count="(\d+)"', page)
    assert match, "no badge on the page"
    return match.group(1)


@pytest.fixture
def notices_badge(monkeypatch):
    """A navigation entry whose badge counts the user's notices (one per page)."""
    monkeypatch.setattr(nav, "_NAV", dict(nav._NAV))

    def count(user) -> int:
        return db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.user_id == user.id)
        )

    nav.register_nav(
        "notifications.index", "Notices", order=1, visible=lambda u: True, badge=count, primary=1
    )


def test_a_badge_counts_what_others_wrote_since_the_last_page(app, client, login, notices_badge):
    username = _volunteer(app)
    login(username)
    assert _badge(client.get("/notifications/").get_data(as_text=True)) == "0"
    assert _badge(client.get("/notifications/").get_data(as_text=True)) == "0"
    with app.app_context():
        user = get_user(db.session, username)
        db.session.add(Notification(user_id=user.id, kind="test"))
        db.session.commit()
    assert _badge(client.get("/").get_data(as_text=True)) == "1"


def test_the_navigation_of_one_user_is_never_anothers(app):
    clients = {}
    for role in ("volunteer", "police"):
        with app.app_context():
            user = make_role_user(db.session, role, password=PASSWORD)
            db.session.commit()
            username = user.username
        clients[role] = logged_in(app, username)
    for _ in range(2):
        volunteer = clients["volunteer"].get("/notifications/").get_data(as_text=True)
        police = clients["police"].get("/notifications/").get_data(as_text=True)
        assert 'href="/reviews/"' in police
        assert 'href="/reviews/"' not in volunteer
