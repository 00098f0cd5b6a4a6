"""The flask commands of the interface contract."""

from __future__ import annotations

import json
import sqlite3

import click
import pytest
from sqlalchemy import func, select

from community.accounts.models import Membership, Organization, User
from community.core.commands import register_command, registered_commands
from community.extensions import db
from tests import dbutil


def _run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_seed_demo_json_lists_one_account_per_role_with_random_passwords(app, session):
    result = _run(app, "seed-demo", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    roles = {a["role"] for a in data["accounts"]}
    assert roles == {
        "admin",
        "police",
        "coordinator",
        "association",
        "landlord",
        "property_manager",
        "enterprise",
        "volunteer",
        "mediator",
    }
    for account in data["accounts"]:
        assert set(account) == {"username", "password", "role", "org", "area"}
        assert len(account["password"]) >= 10
    levels = [a["level"] for a in data["areas"]]
    assert levels.count("district") == 1 and levels.count("street") == 2
    assert levels.count("community") == 4
    kinds = set(session.scalars(select(Organization.kind)))
    assert kinds == {
        "police_station",
        "community_office",
        "landlord_association",
        "property_company",
        "enterprise",
        "volunteer_team",
        "mediation_team",
    }
    # The printed passwords really log in.
    client = app.test_client()
    from tests.conftest import csrf_from

    police = next(a for a in data["accounts"] if a["role"] == "police")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post(
        "/login",
        data={"username": police["username"], "password": police["password"], "csrf_token": token},
    )
    assert resp.status_code == 303


def test_seed_demo_refuses_a_database_with_users(app, session):
    assert _run(app, "seed-demo").exit_code == 0
    again = _run(app, "seed-demo")
    assert again.exit_code != 0
    assert "already has users" in again.output
    assert _run(app, "seed-demo", "--if-empty").exit_code == 0
    from community.duty.demo import VOLUNTEERS
    from community.mediation.demo import OTHERS
    from community.seed import ACCOUNTS

    # The demo accounts, and the duty demo's volunteers (who cannot log in).
    assert session.scalar(select(func.count()).select_from(User)) == len(
        ACCOUNTS
    ) + VOLUNTEERS + len(OTHERS)


def test_seed_demo_passwords_differ_between_runs(app, session):
    first = json.loads(_run(app, "seed-demo", "--json").output)
    session.rollback()
    # Empty every table the demo filled (children first); the checklist stays. The
    # audit log refuses deletes (triggers of 0011_audit_outbox): they are dropped in
    # this test's transaction, which is rolled back at its end, triggers and all.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(db.text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
    else:
        session.execute(db.text("DROP TRIGGER audit_event_no_delete"))
    session.execute(db.text("UPDATE area SET parent_id = NULL"))
    for table in reversed(db.metadata.sorted_tables):
        if table.name != "checklist_item":
            session.execute(table.delete())
    session.commit()
    second = json.loads(_run(app, "seed-demo", "--json").output)
    assert [a["username"] for a in first["accounts"]] == [a["username"] for a in second["accounts"]]
    assert first["accounts"][0]["password"] != second["accounts"][0]["password"]


def test_create_area_org_and_user(app, session):
    assert _run(app, "create-area", "甲区", "--level", "district").exit_code == 0
    assert (
        _run(app, "create-area", "乙街道", "--level", "street", "--parent", "甲区").exit_code == 0
    )
    r = _run(app, "create-org", "甲派出所", "--kind", "police_station", "--area", "乙街道")
    assert r.exit_code == 0, r.output
    r = _run(
        app,
        "create-user",
        "jia",
        "--password",
        "long-enough-pw",
        "--role",
        "police",
        "--org",
        "甲派出所",
    )
    assert r.exit_code == 0, r.output
    user = session.scalar(select(User).where(User.username == "jia"))
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id))
    assert membership.role == "police" and membership.organization.name == "甲派出所"


def test_cli_errors_are_messages_not_tracebacks(app, session):
    r = _run(app, "create-area", "孤儿社区", "--level", "community", "--parent", "不存在")
    assert r.exit_code != 0 and "Traceback" not in r.output
    r = _run(app, "create-user", "x", "--password", "short", "--role", "police")
    assert r.exit_code != 0 and "10" in r.output
    assert not session.scalar(select(User).where(User.username == "x"))


def test_backup_writes_a_usable_copy(app, session, tmp_path):
    """The archive holds the database as its own tool copied it and a manifest (the
    restore round trip is tests/test_backup.py)."""
    import tarfile

    _run(app, "create-area", "备份区", "--level", "district")
    target = tmp_path / "backup.tar.gz"
    result = _run(app, "backup", str(target))
    assert result.exit_code == 0, result.output
    assert "COMMUNITY_DATA_KEY is not in this backup" in result.output
    with tarfile.open(target) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))
        assert {"user", "area", "organization", "alembic_version"} <= set(manifest["tables"])
        if not dbutil.is_postgres():
            copy = tmp_path / "copy.db"
            copy.write_bytes(archive.extractfile("database.sqlite").read())
            with sqlite3.connect(copy) as conn:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            assert {"user", "area", "organization", "alembic_version"} <= tables
        else:
            assert "database.pgdump" in archive.getnames()


def test_purge_expired_deletes_day_old_submission_tokens(app, session):
    from datetime import timedelta

    from community.core.models import SubmissionToken
    from community.core.timeutil import utcnow

    session.add(SubmissionToken(token="old-token-1", created_at=utcnow() - timedelta(days=2)))
    session.add(SubmissionToken(token="new-token-1", created_at=utcnow()))
    session.commit()
    result = _run(app, "purge-expired")
    assert result.exit_code == 0, result.output
    assert "submission tokens deleted: 1" in result.output
    assert set(session.scalars(select(SubmissionToken.token))) == {"new-token-1"}


def test_an_expired_token_is_deleted_on_the_next_write(app, session, client, login_as):
    """Rows do not grow forever: a form submitted with a token deletes the expired ones."""
    from datetime import timedelta

    from community.core.models import SubmissionToken
    from community.core.timeutil import utcnow
    from tests.conftest import csrf_from

    session.add(SubmissionToken(token="old-token-2", created_at=utcnow() - timedelta(days=2)))
    session.commit()
    login_as("admin")
    html = client.get("/admin/areas").get_data(as_text=True)
    data = {
        "name": "新区",
        "level": "district",
        "parent_id": "",
        "csrf_token": csrf_from(html),
        "submission_token": "fresh-token-123",
    }
    assert client.post("/admin/areas", data=data).status_code == 303
    tokens = set(session.scalars(select(SubmissionToken.token)))
    assert "old-token-2" not in tokens and "fresh-token-123" in tokens


def test_seed_demo_residents_adds_valid_records_in_every_state(app, session):
    from sqlalchemy import func, select

    from community.core.validators import id_number_error, is_valid_id_number
    from community.residents.models import Person, Residence

    result = _run(app, "seed-demo", "--residents", "300")
    assert result.exit_code == 0, result.output
    assert "300 demo residences added" in result.output
    rows = session.execute(
        select(Residence.status, Residence.channel, Residence.late, Residence.move_out)
    ).all()
    assert len(rows) >= 300
    assert {r.status for r in rows} == {"pending", "verified", "rejected"}
    assert {r.channel for r in rows} >= {
        "landlord",
        "property_manager",
        "enterprise",
        "self_declared",
        "police",
    }
    assert any(r.late for r in rows) and any(r.move_out for r in rows)
    numbers = [p.id_number for p in session.scalars(select(Person).limit(50))]
    bad = [(n, id_number_error(n)) for n in numbers if not is_valid_id_number(n)]
    assert numbers and not bad
    assert session.scalar(select(func.count(func.distinct(Person.id_hash)))) == session.scalar(
        select(func.count()).select_from(Person)
    )


# The commands of the interface contract (README, "Command line"): each is a
# top-level `flask` command whether cli.py or a feature's commands.py defines it.
CONTRACT_COMMANDS = {
    "seed-demo",
    "rebuild-rollups",
    "create-area",
    "create-org",
    "create-user",
    "import-residents",
    "export-ledger",
    "purge-expired",
    "send-reminders",
    "send-outbox",
    "close-duties",
    "backup",
    "restore",
}


def test_every_contract_command_is_a_top_level_flask_command(app):
    assert CONTRACT_COMMANDS <= set(app.cli.commands)


def test_a_second_command_of_a_registered_name_is_refused():
    names = [c.name for c in registered_commands()]
    assert "close-duties" in names and len(names) == len(set(names))
    with pytest.raises(KeyError):
        register_command(click.Command("close-duties"))
