"""Models and migrations agree, and the migrations go down and up again."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from community import create_app
from community.config import TestConfig
from community.extensions import db
from tests import dbutil


def test_upgrade_downgrade_upgrade_and_models_match(app):
    url = dbutil.scratch_url("migrations")
    scratch = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url}))
    with scratch.app_context():
        engine = db.engines[None] if None in db.engines else db.engine
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        flask_migrate.upgrade()
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": True}
            )
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        engine.dispose()
