"""The bell, the list, following a notice and marking read, as a user does it."""

from __future__ import annotations

import re

from sqlalchemy import select

from community.accounts.models import User
from community.core.models import Notification
from community.extensions import db
from tests.factories.accounts import make_user
from tests.factories.notifications import make_notice


def _notices(app, user_id):
    with app.app_context():
        return list(
            db.session.scalars(
                select(Notification)
                .where(Notification.user_id == user_id)
                .order_by(Notification.id)
            )
        )


def _seed(app, user_id, n=3, read=0, **kw):
    with app.app_context():
        user = db.session.get(User, user_id)
        made = [make_notice(db.session, user=user, read=i < read, **kw) for i in range(n)]
        db.session.commit()
        return [m.id for m in made]


def test_bell_shows_the_unread_count_after_the_page_and_links_to_the_list(
    app, client, htmx_client, login_as
):
    me = login_as("landlord")
    _seed(app, me["id"], n=3, read=1)
    page = client.get("/").get_data(as_text=True)
    # The page itself carries the plain link and the lazy htmx load, not the count.
    assert 'href="/notifications/"' in page and 'hx-get="/notifications/bell"' in page
    assert 'hx-trigger="load, every 30s, notices-read from:body"' in page
    assert "bell-count" not in page
    bell = htmx_client.get("/notifications/bell")
    assert bell.status_code == 200 and "<html" not in bell.get_data(as_text=True)
    assert re.search(r'data-testid="bell-count">2<', bell.get_data(as_text=True))
    assert bell.headers["Cache-Control"] == "no-store"


def test_bell_is_one_query(app, htmx_client, login_as, count_queries):
    me = login_as("landlord")
    _seed(app, me["id"], n=2)
    htmx_client.get("/notifications/bell")  # warm the session and caches
    with count_queries() as q:
        htmx_client.get("/notifications/bell")
    counts = [s for s in q.statements if "count(" in s.lower() and "notification" in s]
    assert len(counts) == 1
    # Loading the user for the session plus the COUNT; nothing else.
    assert q.count <= 2, q.statements


def test_a_visitor_gets_no_bell_and_pages_run_no_notification_query(client, count_queries):
    assert client.get("/notifications/bell").status_code == 204
    with count_queries() as q:
        page = client.get("/login").get_data(as_text=True)
    assert "notifications/bell" not in page
    assert not [s for s in q.statements if "notification" in s]


def test_bell_poll_does_not_keep_a_session_alive(app, client, login_as):
    login_as("landlord")
    with client.session_transaction() as sess:
        sess["last_seen"] -= 120
        seen = sess["last_seen"]
    client.get("/notifications/bell", headers={"HX-Request": "true"})
    with client.session_transaction() as sess:
        assert sess["last_seen"] == seen


def test_list_is_newest_first_marks_unread_and_shows_only_mine(app, client, login_as):
    other = None
    with app.app_context():
        other = make_user(db.session)
        make_notice(db.session, user=other, site="别人的")
        db.session.commit()
    me = login_as("landlord")
    ids = _seed(app, me["id"], n=2, read=1)
    body = client.get("/notifications/").get_data(as_text=True)
    assert body.index(f'id="notice-{ids[1]}"') < body.index(f'id="notice-{ids[0]}"')
    assert f'id="notice-{ids[1]}" class="notice unread"' in body
    assert f'id="notice-{ids[0]}" class="notice"' in body
    assert "别人的" not in body
    assert other is not None


def test_list_is_paginated_with_a_query_budget(app, client, login_as, count_queries):
    me = login_as("landlord")
    _seed(app, me["id"], n=3)
    with count_queries() as small:
        client.get("/notifications/")
    _seed(app, me["id"], n=40)
    with count_queries() as big:
        body = client.get("/notifications/").get_data(as_text=True)
    assert big.count == small.count
    assert "Page 1 of 2" in body
    assert "Page 2 of 2" in client.get("/notifications/?page=2").get_data(as_text=True)


def test_following_a_notice_marks_it_read_and_goes_to_its_link(app, client, login_as, csrf):
    me = login_as("landlord")
    (nid,) = _seed(app, me["id"], n=1, link="/hazards/")
    page = client.get("/notifications/").get_data(as_text=True)
    assert f'method="post" action="/notifications/{nid}"' in page
    resp = client.post(f"/notifications/{nid}", data={"csrf_token": csrf("/notifications/")})
    assert resp.status_code == 303 and resp.headers["Location"] == "/hazards/"
    assert _notices(app, me["id"])[0].read_at is not None


def test_opening_a_notice_by_get_goes_to_its_link_and_writes_nothing(app, client, login_as):
    me = login_as("landlord")
    (nid,) = _seed(app, me["id"], n=1, link="/hazards/")
    resp = client.get(f"/notifications/{nid}")
    assert resp.status_code == 303 and resp.headers["Location"] == "/hazards/"
    assert _notices(app, me["id"])[0].read_at is None


def test_following_a_notice_without_csrf_changes_nothing(app, client, login_as):
    me = login_as("landlord")
    (nid,) = _seed(app, me["id"], n=1, link="/hazards/")
    assert client.post(f"/notifications/{nid}").status_code == 400
    assert _notices(app, me["id"])[0].read_at is None


def test_a_notice_link_never_leads_off_site(app, client, login_as, csrf):
    me = login_as("landlord")
    (nid,) = _seed(app, me["id"], n=1, link="//evil.example/x")
    assert client.get(f"/notifications/{nid}").headers["Location"] == "/notifications/"
    token = csrf("/notifications/")
    followed = client.post(f"/notifications/{nid}", data={"csrf_token": token})
    assert followed.headers["Location"] == "/notifications/"


def test_someone_elses_notice_is_404(app, client, login_as, csrf):
    with app.app_context():
        other = make_user(db.session)
        nid, other_id = make_notice(db.session, user=other).id, other.id
        db.session.commit()
    login_as("landlord")
    assert client.get(f"/notifications/{nid}").status_code == 404
    token = csrf("/notifications/")
    assert client.post(f"/notifications/{nid}/read", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/notifications/{nid}", data={"csrf_token": token}).status_code == 404
    assert _notices(app, other_id)[0].read_at is None


def test_mark_one_read_plain_and_htmx(app, client, htmx_client, login_as, csrf):
    me = login_as("landlord")
    a, b = _seed(app, me["id"], n=2)
    token = csrf("/notifications/")
    resp = client.post(f"/notifications/{a}/read", data={"csrf_token": token})
    assert resp.status_code == 303
    resp = htmx_client.post(f"/notifications/{b}/read", data={"csrf_token": token})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body and 'id="notice-list"' in body
    assert "notices-read" in resp.headers["HX-Trigger"]
    assert all(n.read_at for n in _notices(app, me["id"]))


def test_mark_all_read(app, client, login_as, csrf):
    me = login_as("landlord")
    _seed(app, me["id"], n=3)
    resp = client.post("/notifications/read-all", data={"csrf_token": csrf("/notifications/")})
    assert resp.status_code == 303
    assert all(n.read_at for n in _notices(app, me["id"]))


def test_mark_read_without_csrf_changes_nothing(app, client, login_as):
    me = login_as("landlord")
    _seed(app, me["id"], n=1)
    assert client.post("/notifications/read-all").status_code == 400
    assert _notices(app, me["id"])[0].read_at is None


def test_digest_choice_on_the_account_page(app, client, login_as, csrf):
    me = login_as("landlord")
    page = client.get("/account/password").get_data(as_text=True)
    assert 'action="/account/digest"' in page and 'name="digest"' in page
    resp = client.post(
        "/account/digest", data={"csrf_token": csrf("/account/password"), "digest": "y"}
    )
    assert resp.status_code == 303
    with app.app_context():
        assert db.session.get(User, me["id"]).notify_digest is True
    client.post("/account/digest", data={"csrf_token": csrf("/account/password")})
    with app.app_context():
        assert db.session.get(User, me["id"]).notify_digest is False
