"""rollups: per-area, per-month counters for the dashboard

Revision ID: 0012_rollups
Revises: 0009_notifications
Create Date: 2026-11-30 20:30:00

After upgrading a database that already holds data, fill the counters once with
`flask --app app rebuild-rollups`.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012_rollups"
down_revision = "0009_notifications"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rollup_month",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["area.id"], name=op.f("fk_rollup_month_area_id_area"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("area_id", "month", "metric", name=op.f("pk_rollup_month")),
    )


def downgrade():
    op.drop_table("rollup_month")
