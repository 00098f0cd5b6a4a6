"""periodic_job: one row per periodic job kind of the worker

Revision ID: 0020_periodic_job
Revises: 0020_outbox_kind
Create Date: 2026-12-07 19:30:00

The worker (`flask worker`, core/jobs.py) claims a kind's run with one conditional
UPDATE of its row (due, and no live lease), so with workers on several hosts each
kind runs once per period and never overlaps itself; the row keeps how its runs
went for the admin page (/admin/jobs). Rows are added by the worker when it starts.

import_job.locale: the uploader's language, in which the worker writes the refused
rows' reasons (the worker has no request to read it from).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020_periodic_job"
down_revision = "0020_outbox_kind"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "periodic_job",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("next_run_at", sa.DateTime(), nullable=False),
        sa.Column("runner", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("last_run_at", sa.DateTime(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_periodic_job")),
    )
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.drop_column("locale")
    op.drop_table("periodic_job")
