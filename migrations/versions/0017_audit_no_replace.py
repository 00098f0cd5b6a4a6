"""audit_event: SQLite refuses an INSERT that reuses an event's id

Revision ID: 0017_audit_no_replace
Revises: 0016_hazard_fix_photo
Create Date: 2026-12-08 10:00:00

On SQLite, `REPLACE INTO audit_event ...` and `INSERT OR REPLACE` delete the row
with the same id and insert a new one; that delete fires no DELETE trigger (unless
recursive_triggers is on), so 0011_audit_outbox's triggers let an event be
rewritten. A BEFORE INSERT trigger refuses any insert whose id is already taken,
before the conflict is resolved. PostgreSQL has no REPLACE, and its
`INSERT ... ON CONFLICT (id) DO UPDATE` fires the UPDATE trigger of 0011, which
refuses it: nothing to add there. Like the triggers of 0011, a later migration
that rebuilds audit_event on SQLite (batch mode) must create this one again.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0017_audit_no_replace"
down_revision = "0016_hazard_fix_photo"
branch_labels = None
depends_on = None

REFUSAL = "audit_event is append-only"


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE TRIGGER audit_event_no_replace BEFORE INSERT ON audit_event "
        "WHEN EXISTS (SELECT 1 FROM audit_event WHERE id = NEW.id) "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    )


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_replace")
