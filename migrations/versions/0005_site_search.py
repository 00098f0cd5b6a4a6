"""site search without a scan: FTS5 trigram (SQLite), pg_trgm GIN indexes (PostgreSQL)

Revision ID: 0005_site_search
Revises: 0004_site_enterprise
Create Date: 2026-11-30 17:10:00

Substring search over site names and addresses (Chinese has no word breaks, so
trigrams, not words) for queries of 3+ characters; community.places.queries
(SiteFilters.apply) is the one reader.

SQLite: `site_fts` is an external-content FTS5 table (it stores only the index;
the text stays in `site`), kept in step by three triggers. Coupled: a later
migration that rebuilds `site` with batch_alter_table (copy, drop, rename) drops
these triggers with the old table; it must create them again (TRIGGERS below)
and run the 'rebuild' command. migrations/env.py keeps site_fts and its shadow
tables out of autogenerate.

PostgreSQL: GIN gin_trgm_ops indexes serve `ILIKE '%q%'`. fastupdate is off:
with GIN's pending list, rows inserted since the last vacuum are searched one by
one and the planner prices the index above a sequential scan (seen at 50,000
sites: 40 ms instead of 0.2 ms until VACUUM ran); sites are written rarely, so
each insert updating the index at once costs little. pg_trgm only makes
trigrams of characters the database's LC_CTYPE calls letters or digits: with
C.UTF-8 or a UTF-8 locale Chinese is indexed; a database created with
LC_CTYPE=C indexes no Chinese and the search falls back to scanning.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0005_site_search"
down_revision = "0004_site_enterprise"
branch_labels = None
depends_on = None

TRIGGERS = {
    "site_fts_insert": """
        CREATE TRIGGER site_fts_insert AFTER INSERT ON site BEGIN
            INSERT INTO site_fts (rowid, name, address) VALUES (new.id, new.name, new.address);
        END""",
    "site_fts_delete": """
        CREATE TRIGGER site_fts_delete AFTER DELETE ON site BEGIN
            INSERT INTO site_fts (site_fts, rowid, name, address)
            VALUES ('delete', old.id, old.name, old.address);
        END""",
    "site_fts_update": """
        CREATE TRIGGER site_fts_update AFTER UPDATE OF id, name, address ON site BEGIN
            INSERT INTO site_fts (site_fts, rowid, name, address)
            VALUES ('delete', old.id, old.name, old.address);
            INSERT INTO site_fts (rowid, name, address) VALUES (new.id, new.name, new.address);
        END""",
}

PG_INDEXES = {"ix_site_name_trgm": "name", "ix_site_address_trgm": "address"}


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE site_fts USING fts5("
            "name, address, content='site', content_rowid='id', tokenize='trigram')"
        )
        for sql in TRIGGERS.values():
            op.execute(sql)
        op.execute("INSERT INTO site_fts (site_fts) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, column in PG_INDEXES.items():
            op.execute(
                f"CREATE INDEX {name} ON site USING gin ({column} gin_trgm_ops) "
                "WITH (fastupdate = off)"
            )


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS site_fts")
    elif dialect == "postgresql":
        for name in PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        # The pg_trgm extension stays: other schemas or tools may use it, and
        # dropping an extension needs more rights than the app's role may have.
