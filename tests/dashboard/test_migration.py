"""Migration 0012_rollups fills the counters of a database that already holds data,
equal to what `rebuild-rollups` computes."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

import flask_migrate
from sqlalchemy import text
from sqlalchemy.orm import Session

from community import create_app
from community.accounts.models import Area, User
from community.config import TestConfig
from community.core.rollups import TOTAL, contributions, current
from community.extensions import db
from community.residents.compliance.models import PointsEntry
from tests import dbutil


def test_upgrade_fills_the_counters_of_existing_data(app):
    url = dbutil.scratch_url("rollups")
    scratch = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with scratch.app_context():
        flask_migrate.upgrade(revision="0013_reviews")  # the revision before 0012_rollups
        # Its own session: the test's db.session is bound to the main test database.
        s = Session(db.engine)
        district = Area(name="D", level="district", path="/1/", id=1)
        community = Area(name="C", level="community", parent_id=1, path="/1/2/", id=2)
        landlord = User(username="l", display_name="l", password_hash="x")
        s.add_all([district, community, landlord])
        s.flush()
        # The site table as it was at that revision (today's model has more columns).
        site_id = s.execute(
            text(
                "INSERT INTO site (name, kind, area_id, address, landlord_id, qr_token, "
                "created_at) VALUES ('S', 'rental_house', 2, 'a', :landlord, 'tok', :at) "
                "RETURNING id"
            ),
            {"landlord": landlord.id, "at": datetime(2020, 1, 1)},
        ).scalar_one()
        site = SimpleNamespace(id=site_id)
        # Buildings and rooms by SQL too: the ORM's flush keeps today's columns in
        # step (site.room_count, places.stored), which this revision has not.
        building_id = s.execute(
            text(
                "INSERT INTO building (site_id, name, created_at) VALUES (:site, 'A', :at) "
                "RETURNING id"
            ),
            {"site": site.id, "at": datetime(2020, 1, 1)},
        ).scalar_one()
        room = SimpleNamespace(
            id=s.execute(
                text(
                    "INSERT INTO room (building_id, number, beds, occupants) "
                    "VALUES (:building, '1', 4, 3) RETURNING id"
                ),
                {"building": building_id},
            ).scalar_one()
        )

        # The tables as they were at that revision (today's models have more columns).
        def residence(n, move_in, status="verified", move_out=None):
            person_id = s.execute(
                text(
                    "INSERT INTO person (name, id_number, id_hash, gender, birth_date, "
                    "created_at) VALUES (:name, '-', :hash, 'M', :born, :now) RETURNING id"
                ),
                {
                    "name": f"p{n}",
                    "hash": f"h{n}",
                    "born": date(1990, 1, 1),
                    "now": datetime(2026, 1, 1),
                },
            ).scalar_one()
            residence_id = s.execute(
                text(
                    "INSERT INTO residence (person_id, room_id, move_in, move_out, channel, "
                    "reported_at, status, reference, late) VALUES (:person, :room, :move_in, "
                    ":move_out, 'landlord', :at, :status, :ref, :late) RETURNING id"
                ),
                {
                    "person": person_id,
                    "room": room.id,
                    "move_in": move_in,
                    "move_out": move_out,
                    "at": datetime(2026, 2, 1),
                    "status": status,
                    "ref": f"REF{n:07d}",
                    "late": False,
                },
            ).scalar_one()
            return SimpleNamespace(id=residence_id)

        active = residence(1, date(2026, 1, 10))
        left = residence(2, date(2025, 12, 1), move_out=date(2026, 2, 3))
        residence(3, date(2026, 2, 1), status="pending")
        for r, month, reason in (
            (active, date(2026, 1, 1), "timely"),
            (left, date(2026, 2, 1), "late"),
        ):
            s.add(
                PointsEntry(
                    user_id=landlord.id,
                    residence_id=r.id,
                    site_id=site.id,
                    month=month,
                    points=1,
                    reason=reason,
                )
            )
        s.commit()
        flask_migrate.upgrade()
        counters = current(s)
        assert counters == {
            (2, date(2025, 12, 1), "residents.active"): 1,
            (2, date(2026, 1, 1), "residents.active"): 1,
            (2, date(2026, 2, 1), "residents.active"): -1,
            (2, date(2026, 1, 1), "reports.timely"): 1,
            (2, date(2026, 2, 1), "reports.late"): 1,
            (2, TOTAL, "rooms.occupants"): 3,
            # 0027_site_due_stored: the sites' counters (双无 since 2020-12-31)
            (2, TOTAL, "sites.total"): 1,
            (2, TOTAL, "sites.shuangwu"): 1,
        }
        row = s.execute(text("SELECT due_on, cadence_days, shuangwu_on FROM site")).one()
        assert (row.due_on, row.cadence_days) == (None, 14)
        assert str(row.shuangwu_on) == "2020-12-31"
        assert counters == contributions(s)
        s.close()
        db.engine.dispose()
