"""`flask backup` and `flask restore` (issue 18 item 5): the database and the stored
files in one archive, loaded into an empty database and empty storage, on the
database the suite runs on (SQLite, or PostgreSQL with TEST_DATABASE_URL) and with
each storage backend."""

from __future__ import annotations

import io
import tarfile
from datetime import date
from io import BytesIO

import flask_migrate
import pytest
from sqlalchemy import create_engine, func, inspect, select, table, text

from community import create_app
from community.config import TestConfig
from community.core import storage
from community.core.crypto import mask_id_number
from community.extensions import db
from community.residents import queries
from tests import dbutil
from tests.conftest import PASSWORD, logged_in
from tests.factories.accounts import make_area_tree, make_role_user
from tests.factories.hazards import image_bytes, make_hazard
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import id_number, make_residence

NUMBER = id_number(born=date(1988, 5, 17), serial=42)


_APPS: list = []


@pytest.fixture(autouse=True)
def _transaction():
    """Overrides the suite's rolled-back transaction: these tests commit, in scratch
    databases of their own. Every app made closes its connections at the end."""
    yield
    while _APPS:
        with _APPS.pop().app_context():
            db.session.remove()
            db.engine.dispose()


def _app(url: str, files, backend: str, **settings):
    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "UPLOAD_DIR": str(files / "uploads"),
        "IMPORT_DIR": str(files / "imports"),
        "STORAGE_BACKEND": backend,
        **settings,
    }
    _APPS.append(create_app(type("Cfg", (TestConfig,), settings)))
    return _APPS[-1]


def _run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _counts(app) -> dict[str, int]:
    with app.app_context(), db.engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table(name))).scalar_one()
            for name in inspect(conn).get_table_names()
        }


def _files(app) -> dict[tuple[str, str], bytes]:
    with app.app_context():
        found = {}
        for info in storage.all_files():
            with storage.open_file(info.kind, info.key) as f:
                found[(info.kind, info.key)] = f.read()
        db.session.remove()
        return found


def _seed(app) -> tuple[str, int]:
    """A police liaison, a landlord's site with a resident of a known number and a
    hazard with a photo, and an import file; returns the police's username and the
    residence id."""
    with app.app_context():
        flask_migrate.upgrade()
        s = db.session
        _, _, community = make_area_tree(s)
        police = make_role_user(s, "police", password=PASSWORD, area=community)
        landlord = make_role_user(s, "landlord", password=PASSWORD, area=community)
        site = make_site(s, area=community, landlord=landlord, name="青年公寓")
        room = make_room(s, building=make_building(s, site=site, name="A座"), number="101")
        room = queries.get_room(s, room.id)  # with its building and site
        residence = make_residence(s, room=room, reporter=landlord, number=NUMBER, name="王五")
        make_hazard(s, site=site, reporter=landlord, photo=BytesIO(image_bytes()))
        storage.save("imports", "restore-check.csv", "姓名,身份证号码\n".encode() * 200)
        s.commit()
        found = (police.username, residence.id)
        s.remove()
        db.engine.dispose()
    return found


@pytest.fixture
def scratch():
    urls = []

    def make(name: str) -> str:
        urls.append(dbutil.scratch_url(name))
        return urls[-1]

    yield make
    for url in urls:
        dbutil.drop_scratch(url)


# (the source's backend, the target's): the files of a local backup restored with
# STORAGE_BACKEND=database move into the database.
@pytest.mark.parametrize(
    ("backend", "target_backend"),
    [("local", "local"), ("database", "database"), ("local", "database")],
)
def test_backup_restores_into_an_empty_database_with_the_same_rows_and_files(
    tmp_path, scratch, backend, target_backend
):
    source = _app(scratch("backup_source"), tmp_path / "source", backend)
    police, residence_id = _seed(source)
    archive = tmp_path / "community.tar.gz"

    made = _run(source, "backup", str(archive))
    assert made.exit_code == 0, made.output
    assert "COMMUNITY_DATA_KEY is not in this backup" in made.output
    assert archive.stat().st_mode & 0o077 == 0  # readable by its owner only
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        everything = b"".join(tar.extractfile(m).read() for m in tar.getmembers())
    assert TestConfig.COMMUNITY_DATA_KEY.encode() not in everything
    assert NUMBER.encode() not in everything  # encrypted at rest, so in the backup too
    photos = [n for n in names if n.startswith("files/photos/")]
    assert len(photos) == (1 if backend == "local" else 0)

    target = _app(scratch("backup_target"), tmp_path / "target", target_backend)
    done = _run(target, "restore", str(archive))
    assert done.exit_code == 0, done.output
    assert "row counts and files match" in done.output and "warning" not in done.output

    counts = _counts(source)
    assert counts["residence"] == 1 and counts["hazard"] == 1
    if backend != target_backend:  # the two files became rows (one chunk each)
        counts = {**counts, "stored_file": 2, "stored_file_chunk": 2}
    assert counts == _counts(target)
    files = _files(source)
    assert len(files) == 2 and files == _files(target)

    client = logged_in(target, police)
    page = client.get(f"/residents/{residence_id}").get_data(as_text=True)
    assert "王五" in page and mask_id_number(NUMBER) in page and NUMBER not in page

    # A database holding anything is refused, and left as it was.
    counts = _counts(target)  # the login wrote to the audit log
    again = _run(target, "restore", str(archive))
    assert again.exit_code != 0 and "the database is not empty" in again.output
    assert "Traceback" not in again.output
    assert _counts(target) == counts
    if target_backend == "local":
        # An empty database, but photos already in the upload folder: refused too.
        other = _app(scratch("backup_other"), tmp_path / "target", backend)
        refused = _run(other, "restore", str(archive))
        assert refused.exit_code != 0, refused.output
        assert "the file storage is not empty" in refused.output
        assert _counts(other) == {}


def test_restore_warns_when_the_data_key_is_not_the_backups(tmp_path, scratch):
    url = scratch("backup_key_source")
    engine = create_engine(url)
    with engine.begin() as conn:  # any database will do: no need to migrate one
        conn.execute(text("CREATE TABLE note (id integer PRIMARY KEY)"))
        conn.execute(text("INSERT INTO note (id) VALUES (1), (2)"))
    engine.dispose()
    source = _app(url, tmp_path / "source", "local")
    archive = tmp_path / "community.tar.gz"
    assert _run(source, "backup", str(archive)).exit_code == 0
    other_key = "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktb3Q="
    target = _app(
        scratch("backup_key_target"), tmp_path / "target", "local", COMMUNITY_DATA_KEY=other_key
    )
    done = _run(target, "restore", str(archive))
    assert done.exit_code == 0, done.output
    assert "COMMUNITY_DATA_KEY is not the key in use when the backup was made" in done.output
    assert _counts(target) == {"note": 2}


def test_restore_refuses_what_is_not_a_backup(tmp_path, scratch):
    target = _app(scratch("backup_junk"), tmp_path, "local")
    junk = tmp_path / "junk.tar.gz"
    with tarfile.open(junk, "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("hello.txt"), io.BytesIO())
    text = tmp_path / "notes.txt"
    text.write_text("not an archive")
    for path, message in (
        (junk, "not an archive written by `flask backup`"),
        (text, "cannot read"),
    ):
        result = _run(target, "restore", str(path))
        assert result.exit_code != 0 and message in result.output
        assert "Traceback" not in result.output
    assert _counts(target) == {}
