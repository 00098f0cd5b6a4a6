"""Migration 0028_outreach_scale counts the rooms of the sites already there, and
goes down and up again."""

from __future__ import annotations

from datetime import datetime

import flask_migrate
from sqlalchemy import inspect, text

from community import create_app
from community.config import TestConfig
from community.extensions import db
from tests import dbutil


def test_upgrade_counts_the_rooms_of_existing_sites(app):
    url = dbutil.scratch_url("room_count")
    scratch = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with scratch.app_context():
        flask_migrate.upgrade(revision="0027_site_due_stored")
        # By SQL: the ORM's flush would keep today's columns, which are not there yet.
        with db.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO area (id, name, level, path) VALUES (1, 'C', 'community', '/1/')")
            )
            for site_id, rooms in ((1, 3), (2, 0), (3, 1)):
                conn.execute(
                    text(
                        "INSERT INTO site (id, name, kind, area_id, address, qr_token, "
                        "created_at) VALUES (:id, :name, 'rental_house', 1, 'a', :tok, :at)"
                    ),
                    {
                        "id": site_id,
                        "name": f"S{site_id}",
                        "tok": f"t{site_id}",
                        "at": datetime(2026, 1, 1),
                    },
                )
                conn.execute(
                    text(
                        "INSERT INTO building (id, site_id, name, created_at) "
                        "VALUES (:id, :id, 'A', :at)"
                    ),
                    {"id": site_id, "at": datetime(2026, 1, 1)},
                )
                for n in range(rooms):
                    conn.execute(
                        text(
                            "INSERT INTO room (building_id, number, beds, occupants) "
                            "VALUES (:b, :n, 2, 1)"
                        ),
                        {"b": site_id, "n": str(n)},
                    )
        flask_migrate.upgrade(revision="0028_outreach_scale")
        with db.engine.connect() as conn:
            counts = dict(conn.execute(text("SELECT id, room_count FROM site")).all())
        assert counts == {1: 3, 2: 0, 3: 1}
        flask_migrate.downgrade(revision="0027_site_due_stored")
        engine = db.engine
        assert "room_count" not in {c["name"] for c in inspect(engine).get_columns("site")}
        indexes = {i["name"] for i in inspect(engine).get_indexes("residence")}
        assert "ix_residence_employer_active" not in indexes
        flask_migrate.upgrade(revision="0028_outreach_scale")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT sum(room_count) FROM site")).scalar() == 4
        engine.dispose()
    dbutil.drop_scratch(url)
