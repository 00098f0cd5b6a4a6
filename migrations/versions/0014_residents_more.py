"""residents more: late move-outs in the points ledger

Revision ID: 0014_residents_more
Revises: 0009_notifications
Create Date: 2026-11-30 20:30:00

points_entry gets `event` ('report' for the move-in report, 'move_out' for the
move-out); the ledger keeps one line per residence and event (the unique
constraint on residence_id alone becomes one on (residence_id, event)).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014_residents_more"
down_revision = "0009_notifications"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("points_entry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("event", sa.String(length=10), server_default="report", nullable=False)
        )
        batch_op.drop_constraint(batch_op.f("uq_points_entry_residence_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_points_entry_residence_id_event"), ["residence_id", "event"]
        )
        batch_op.create_check_constraint(
            "event", "event IN ('report', 'move_out')"
        )


def downgrade():
    op.execute("DELETE FROM points_entry WHERE event <> 'report'")
    with op.batch_alter_table("points_entry", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_points_entry_event"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_points_entry_residence_id_event"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_points_entry_residence_id"), ["residence_id"]
        )
        batch_op.drop_column("event")
