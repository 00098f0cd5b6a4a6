"""The audit log: events written for logins, logouts, passwords, users, memberships
and residences; the /audit/ page (filters, keyset pages, CSV, access); and the
database refusing to change or delete an event (PostgreSQL and SQLite)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from community.accounts import services as accounts
from community.accounts.models import User
from community.audit import queries
from community.core import audit
from community.core.models import AuditEvent
from community.core.timeutil import utcnow
from community.extensions import db
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_org, make_role_user, make_user
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import make_residence


def _events(app, action=None):
    with app.app_context():
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        return list(db.session.scalars(stmt))


def _make(app, role="landlord", **kw):
    with app.app_context():
        user = make_role_user(db.session, role, password=PASSWORD, **kw)
        db.session.commit()
        return user.id, user.username


# --- events ---------------------------------------------------------------------------


def test_login_success_and_failure_are_audited_without_the_password(app, client):
    uid, username = _make(app)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    bad = client.post(
        "/login", data={"username": username, "password": "wrong-password-1", "csrf_token": token}
    )
    assert bad.status_code == 401
    client.post(
        "/login", data={"username": "nobody-here", "password": "s3cret-typed", "csrf_token": token}
    )
    good = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert good.status_code == 303
    failed = _events(app, "login_failed")
    assert [(e.object_type, e.object_id, e.detail["username"]) for e in failed] == [
        ("user", uid, username),
        ("user", None, "nobody-here"),
    ]
    assert all(e.actor_id is None and e.address == "127.0.0.1" for e in failed)
    everything = str([(e.detail, e.action) for e in _events(app)])
    assert "wrong-password-1" not in everything and "s3cret-typed" not in everything
    (ok,) = _events(app, "login")
    assert ok.actor_id == uid and ok.object_id == uid and ok.address == "127.0.0.1"


def test_logout_and_password_change_are_audited(app, client, login, csrf):
    uid, username = _make(app)
    login(username)
    resp = client.post(
        "/account/password",
        data={
            "csrf_token": csrf("/account/password"),
            "current_password": PASSWORD,
            "new_password": "another-long-password",
            "confirm": "another-long-password",
        },
    )
    assert resp.status_code == 303
    client.post("/logout", data={"csrf_token": csrf("/")})
    assert [e.actor_id for e in _events(app, "password_changed")] == [uid]
    assert [e.actor_id for e in _events(app, "logout")] == [uid]


def test_membership_changes_and_user_changes_are_audited(session):
    admin = make_role_user(session, "admin")
    user = make_user(session, phone="13812345678")
    org = make_org(session, kind="volunteer_team")
    membership = accounts.add_membership(session, admin, user, "volunteer", org)
    accounts.remove_membership(session, admin, membership)
    accounts.update_user(
        session, admin, user, display_name="新名字", phone="13912345678", active=False
    )
    session.flush()
    rows = {
        e.action: e
        for e in session.scalars(select(AuditEvent).where(AuditEvent.actor_id == admin.id))
    }
    assert rows["membership_added"].detail["org_id"] == org.id
    assert rows["membership_added"].detail["role"] == "volunteer"
    assert rows["membership_removed"].detail == {
        "user_id": user.id,
        "role": "volunteer",
        "org_id": org.id,
        "area_id": None,
    }
    assert rows["user_updated"].detail == {"fields": ["display_name", "phone"]}
    assert rows["user_disabled"].object_id == user.id
    assert "13912345678" not in str([e.detail for e in rows.values()])


def test_user_created_by_an_admin_names_the_admin(session):
    admin = make_role_user(session, "admin")
    user = accounts.create_user(session, "newcomer", "long-enough-pw", actor=admin)
    event = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "user_created", AuditEvent.object_id == user.id
        )
    )
    assert (event.actor_id, event.object_id) == (admin.id, user.id)


def test_a_verification_that_ends_an_earlier_residence_audits_both(session):
    from community.residents import queries as rq
    from tests.factories.accounts import make_area_tree
    from tests.factories.residents import id_number

    community = make_area_tree(session)[2]
    # The officer polices the site's area: a verification ends only the earlier
    # residences the verifying officer polices (tests/residents/test_two_districts.py).
    police = make_role_user(session, "police", area=community)
    landlord = make_role_user(session, "landlord")
    site = make_site(session, area=community, landlord=landlord)
    building = make_building(session, site=site)
    rooms = [rq.get_room(session, make_room(session, building=building).id) for _ in range(2)]
    number = id_number()
    first = make_residence(
        session,
        room=rooms[0],
        number=number,
        status="verified",
        decider=police,
        move_in=utcnow().date() - timedelta(days=30),
    )
    second = make_residence(
        session, room=rooms[1], number=number, status="verified", decider=police
    )
    ended = session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "residence",
            AuditEvent.object_id == first.id,
            AuditEvent.action == "residence.moved_out",
        )
    ).all()
    assert len(ended) == 1 and ended[0].detail["ended_by"] == second.id


# --- immutability -------------------------------------------------------------------


def test_the_database_refuses_to_update_or_delete_an_event(session):
    event = audit.record(session, None, "probe", None, {"x": 1}, object_type="probe")
    session.flush()
    for stmt in (
        update(AuditEvent).where(AuditEvent.id == event.id).values(action="changed"),
        delete(AuditEvent).where(AuditEvent.id == event.id),
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            with session.begin_nested():
                session.execute(stmt)
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.id == event.id)) == "probe"


def _replacements(dialect: str) -> list[str]:
    # Each writes the probe's own id again, copying its row with another action.
    copy = "(id, at, action, object_type) SELECT id, at, 'replaced', object_type FROM audit_event"
    upsert = (
        f"INSERT INTO audit_event {copy} WHERE id = :id "
        "ON CONFLICT (id) DO UPDATE SET action = excluded.action"
    )
    if dialect == "postgresql":
        return [upsert]
    return [
        f"REPLACE INTO audit_event {copy} WHERE id = :id",
        f"INSERT OR REPLACE INTO audit_event {copy} WHERE id = :id",
        upsert,
    ]


def test_the_database_refuses_to_replace_an_event(session):
    # SQLite's REPLACE deletes the old row without firing DELETE triggers; an
    # upsert's DO UPDATE is an UPDATE on both databases.
    event = audit.record(session, None, "probe", None, {"x": 1}, object_type="probe")
    session.flush()
    count = session.scalar(select(func.count()).select_from(AuditEvent))
    statements = _replacements(session.bind.dialect.name)
    for stmt in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            with session.begin_nested():
                session.execute(text(stmt), {"id": event.id})
    session.expire_all()
    row = session.execute(
        select(AuditEvent.action, AuditEvent.detail).where(AuditEvent.id == event.id)
    ).one()
    assert tuple(row) == ("probe", {"x": 1})
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == count


def test_a_user_with_events_cannot_be_deleted(session):
    user = make_user(session)
    audit.record(session, user, "probe", user)
    session.flush()
    with pytest.raises(DBAPIError):
        with session.begin_nested():
            session.execute(delete(User).where(User.id == user.id))
    assert session.get(User, user.id) is not None


def test_the_triggers_exist_on_this_database(session):
    if session.bind.dialect.name == "postgresql":
        names = session.scalars(
            text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass")
        ).all()
        assert {"audit_event_append_only", "audit_event_no_truncate"} <= set(names)
    else:
        names = session.scalars(
            text("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='audit_event'")
        ).all()
        assert set(names) == {
            "audit_event_no_update",
            "audit_event_no_delete",
            "audit_event_no_replace",
        }


def test_purge_expired_leaves_the_audit_log_alone(app, session):
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(AuditEvent)) >= before


# --- the page -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role,status",
    [("police", 200), ("admin", 200), ("landlord", 403), ("coordinator", 403), ("volunteer", 403)],
)
def test_only_police_and_admins_read_the_log(client, login_as, role, status):
    login_as(role)
    assert client.get("/audit/").status_code == status
    assert client.get("/audit/export.csv").status_code == status


def _seed_events(app, n, **kw):
    with app.app_context():
        for i in range(n):
            db.session.add(
                AuditEvent(
                    action=kw.get("action", "seeded"),
                    object_type=kw.get("object_type", "thing"),
                    object_id=kw.get("object_id", i + 1),
                    actor_id=kw.get("actor_id"),
                    at=kw.get("at", utcnow()),
                    detail=kw.get("detail"),
                )
            )
        db.session.commit()


def test_filters_narrow_the_list(app, client, login_as):
    actor_id, actor_name = _make(app, "volunteer")
    _seed_events(
        app, 3, action="hazard_reported", object_type="hazard", object_id=7, actor_id=actor_id
    )
    _seed_events(app, 2, action="site_created", object_type="site", object_id=9)
    _seed_events(app, 1, action="old_one", at=utcnow() - timedelta(days=40))
    login_as("admin")
    body = client.get(f"/audit/?user={actor_name}").get_data(as_text=True)
    assert (
        body.count('data-action="hazard_reported"') == 3
        and 'data-action="site_created"' not in body
    )
    body = client.get("/audit/?object_type=site&object_id=9").get_data(as_text=True)
    assert (
        body.count('data-action="site_created"') == 2
        and 'data-action="hazard_reported"' not in body
    )
    body = client.get("/audit/?action=site_created").get_data(as_text=True)
    assert body.count('data-action="site_created"') == 2
    since = (utcnow() - timedelta(days=1)).date().isoformat()
    body = client.get(f"/audit/?date_from={since}").get_data(as_text=True)
    assert 'data-action="old_one"' not in body and 'data-action="site_created"' in body
    until = (utcnow() - timedelta(days=30)).date().isoformat()
    body = client.get(f"/audit/?date_to={until}").get_data(as_text=True)
    assert 'data-action="old_one"' in body and 'data-action="site_created"' not in body
    assert "No events match." in client.get("/audit/?user=nobody-at-all").get_data(as_text=True)
    # A nonsense filter is ignored, never a 500.
    assert client.get("/audit/?object_id=abc&date_from=yesterday").status_code == 200


def test_htmx_gets_the_list_fragment(client, htmx_client, login_as):
    login_as("police")
    resp = htmx_client.get("/audit/?action=login")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body and 'id="event-list"' in body


def test_keyset_pages_cost_the_same_however_deep(app, client, login_as, count_queries):
    _seed_events(app, 120, action="paged")
    login_as("admin")
    first = client.get("/audit/?action=paged").get_data(as_text=True)
    assert first.count('data-action="paged"') == queries.PER_PAGE and "Older" in first
    import re

    older = (
        re.search(r'href="(/audit/\?[^"]*before=\d+[^"]*)"', first).group(1).replace("&amp;", "&")
    )
    with count_queries() as q1:
        client.get("/audit/?action=paged")
    with count_queries() as q2:
        second = client.get(older).get_data(as_text=True)
    assert q1.count == q2.count
    assert second.count('data-action="paged"') == queries.PER_PAGE and "Newer" in second
    assert not [s for s in q2.statements if "count(" in s.lower() and "audit_event" in s]


def test_csv_export_is_filtered_neutralised_and_itself_audited(app, client, login_as):
    _seed_events(app, 2, action="exported_probe", object_type="=2+3", detail={"k": "v"})
    _seed_events(app, 1, action="other_probe")
    admin = login_as("admin")
    resp = client.get("/audit/export.csv?action=exported_probe")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 3 and all(r[4] == "exported_probe" for r in rows[1:])
    assert all(r[5] == "'=2+3" and r[7] == "k=v" for r in rows[1:])
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    (exported,) = _events(app, "audit.exported")
    assert exported.actor_id == admin["id"] and exported.detail == {"action": "exported_probe"}


# --- issue 15: true time labels, actions by name ------------------------------------


def test_the_page_says_local_time_and_the_csv_utc(app, client, login_as):
    """The page shows local times and says so (UTC+8 in the tests' zone); the CSV
    keeps UTC and says so."""
    from datetime import datetime

    _seed_events(app, 1, action="clock_probe", at=datetime(2026, 12, 6, 20, 30, 5))
    login_as("admin")
    page = client.get("/audit/?action=clock_probe").get_data(as_text=True)
    assert "<th>Time (UTC+8)</th>" in page and "Time (UTC)" not in page
    assert "2026-12-07 04:30:05" in page and "2026-12-06 20:30:05" not in page
    assert "the CSV gives times in UTC" in page
    rows = list(
        csv.reader(
            io.StringIO(client.get("/audit/export.csv?action=clock_probe").get_data(as_text=True))
        )
    )
    assert rows[0][1].lstrip("\ufeff") == "Time (UTC)" or rows[0][1] == "Time (UTC)"
    assert rows[1][1] == "2026-12-06 20:30:05"


def test_the_date_filters_are_local_days(app, client, login_as):
    """The page shows local days, so From/To are local days too: 04:30 on 7 December
    in China is 20:30 UTC on the 6th."""
    from datetime import datetime

    _seed_events(app, 1, action="day_probe", at=datetime(2026, 12, 6, 20, 30))
    login_as("admin")
    on_7th = client.get("/audit/?action=day_probe&date_from=2026-12-07&date_to=2026-12-07")
    assert 'data-action="day_probe"' in on_7th.get_data(as_text=True)
    on_6th = client.get("/audit/?action=day_probe&date_from=2026-12-06&date_to=2026-12-06")
    assert 'data-action="day_probe"' not in on_6th.get_data(as_text=True)


def test_actions_are_chosen_and_shown_by_their_translated_names(app, login):
    """The action filter is a choice of names in the reader's language (Chinese by
    default); the list shows names, not codes; the chosen name filters."""
    from community.residents.services import REVEALED

    police_id, police_name = _make(app, "police")
    _seed_events(app, 1, action=REVEALED, object_type="residence", actor_id=police_id)
    _seed_events(app, 1, action="site_created", object_type="site")
    zh = app.test_client()
    token = csrf_from(zh.get("/login").get_data(as_text=True))
    zh.post("/login", data={"username": police_name, "password": PASSWORD, "csrf_token": token})
    page = zh.get("/audit/").get_data(as_text=True)
    assert '<select id="action" name="action">' in page
    assert f'<option value="{REVEALED}">查看完整证件号码</option>' in page
    assert '<option value="site_created">登记场所</option>' in page
    assert 'data-action="residence.revealed">查看完整证件号码</td>' in page
    assert "<code>residence.revealed</code>" not in page
    chosen = zh.get(f"/audit/?action={REVEALED}").get_data(as_text=True)
    assert f'<option selected value="{REVEALED}">' in chosen
    assert chosen.count('data-action="residence.revealed"') == 1
    assert 'data-action="site_created"' not in chosen


def _recorded_actions() -> set[str]:
    """Every action code the app records: string literals passed to audit.record
    (and the f-string families spelled out)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "community"
    found: set[str] = set()
    call = re.compile(r"\brecord\(\s*session,\s*[^,]+,\s*\"([a-z_.]+)\"", re.S)
    for path in root.rglob("*.py"):
        found.update(call.findall(path.read_text(encoding="utf-8")))
    from community.hazards import services as hazards
    from community.residents import exports
    from community.residents import services as residents

    found.update(hazards.HISTORY_ACTIONS)
    found.update(
        [
            residents.REPORTED,
            residents.VERIFIED,
            residents.REJECTED,
            residents.RESUBMITTED,
            residents.MOVED_OUT,
            residents.REVEALED,
            exports.EXPORTED,
            "audit.exported",
            "assessment_approved",
            "assessment_rejected",
            "association_application_approved",
            "association_application_declined",
        ]
    )
    return found


def test_every_recorded_action_has_a_name_in_both_languages(app):
    from flask_babel import force_locale

    actions = _recorded_actions()
    assert {"login", "site_created", "duty_claimed", "inspection.completed"} <= actions
    registered = dict(audit.action_choices())
    assert not sorted(actions - set(registered)), "actions without a name"
    with app.test_request_context("/"), force_locale("zh_Hans_CN"):
        for code in actions:
            assert audit.action_label(code) != code
            assert not audit.action_label(code).isascii(), code
