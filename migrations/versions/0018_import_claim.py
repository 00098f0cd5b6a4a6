"""import_job: who runs its step, since when

Revision ID: 0018_import_claim
Revises: 0017_audit_no_replace
Create Date: 2026-12-08 10:00:00

import_job.runner: the token of the runner (a request, a worker) whose claim on the
job's next step holds (imports.services.claim_step), NULL when none does;
import_job.step_started_at: when it claimed it (a claim older than
IMPORT_STEP_STALE_MINUTES may be taken over).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018_import_claim"
down_revision = "0017_audit_no_replace"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("runner", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("step_started_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.drop_column("step_started_at")
        batch_op.drop_column("runner")
