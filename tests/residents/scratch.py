"""A residents world committed for real in a database of its own (a SQLite file, or a
scratch PostgreSQL database when TEST_DATABASE_URL is one), for tests whose
requests run at once in threads: the suite's rolled-back transaction cannot be
shared between them."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta
from types import SimpleNamespace

import flask_migrate

from community import create_app
from community.config import TestConfig
from community.extensions import db
from tests import dbutil
from tests.conftest import PASSWORD
from tests.factories.accounts import make_area_tree, make_role_user
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import id_number


@contextmanager
def scratch_world(name: str, import_dir: str, **config):
    """(app, world): a migrated scratch database holding a community with a landlord
    (`world.landlord`, `world.other_landlord`: usernames), their site (`world.site_id`)
    with building A座 and rooms 101 and 102 (`world.room_id`, `world.room2_id`); dropped
    after."""
    url = dbutil.scratch_url(name)
    settings = {"SQLALCHEMY_DATABASE_URI": url, "IMPORT_DIR": import_dir, **config}
    app = create_app(type("Cfg", (TestConfig,), settings))
    with app.app_context():
        flask_migrate.upgrade()
        s = db.session
        _, _street, community = make_area_tree(s)
        landlord = make_role_user(s, "landlord", password=PASSWORD, area=community)
        other = make_role_user(s, "landlord", password=PASSWORD, area=community)
        site = make_site(s, area=community, landlord=landlord, name="青年公寓")
        building = make_building(s, site=site, name="A座")
        rooms = [make_room(s, building=building, number=n, beds=50) for n in ("101", "102")]
        s.commit()
        world = SimpleNamespace(
            landlord=landlord.username,
            other_landlord=other.username,
            site_id=site.id,
            room_id=rooms[0].id,
            room2_id=rooms[1].id,
        )
        s.remove()
    try:
        yield app, world
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        dbutil.drop_scratch(url)


def twin(app, client):
    """Another client holding `client`'s session cookie (the same browser, another tab)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def import_rows(site_id: int, n: int, first: int = 0) -> list[list[str]]:
    """`n` valid rows of distinct people at the site, in rooms 101 and 102: people
    `first` to `first + n - 1` of one sequence (files of other people start further on)."""
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    rows = []
    for i in range(first, first + n):
        born = date(1970, 1, 1) + timedelta(days=i // 400)
        number = id_number(born=born, serial=i % 400)
        room = "101" if i % 2 else "102"
        rows.append([str(site_id), "A座", room, "张三", number, "13812345678", yesterday, "", ""])
    return rows
