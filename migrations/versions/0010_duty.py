"""duty: tasks, their checkpoints, volunteers' claims and checkpoint visits

Revision ID: 0010_duty
Revises: 0011_audit_outbox
Create Date: 2026-11-30 20:30:00

The guarantee lives here: CHECK (taken <= capacity), CHECK (taken >= 0) and the
partial unique index uq_duty_claim_task_id_volunteer_id_live (one live claim per
task and volunteer; cancelled claims do not count).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_duty"
down_revision = "0011_audit_outbox"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "duty_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("publisher_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("series_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('patrol', 'fire_check', 'legal_publicity', 'mediation', 'anti_fraud')",
            name=op.f("ck_duty_task_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('published', 'cancelled', 'done')", name=op.f("ck_duty_task_status")
        ),
        sa.CheckConstraint("capacity >= 1", name=op.f("ck_duty_task_capacity_positive")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_duty_task_ends_after_start")),
        sa.CheckConstraint("points >= 0", name=op.f("ck_duty_task_points_ge_zero")),
        sa.CheckConstraint("taken <= capacity", name=op.f("ck_duty_task_taken_le_capacity")),
        sa.CheckConstraint("taken >= 0", name=op.f("ck_duty_task_taken_ge_zero")),
        sa.ForeignKeyConstraint(
            ["area_id"], ["area.id"], name=op.f("fk_duty_task_area_id_area"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["publisher_id"],
            ["user.id"],
            name=op.f("fk_duty_task_publisher_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["organization.id"],
            name=op.f("fk_duty_task_team_id_organization"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_task")),
    )
    with op.batch_alter_table("duty_task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_duty_task_area_id_starts_at", ["area_id", "starts_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_duty_task_series_id"), ["series_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_duty_task_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index("ix_duty_task_status_ends_at", ["status", "ends_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_duty_task_team_id"), ["team_id"], unique=False)

    op.create_table(
        "duty_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_duty_checkpoint_site_id_site"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["duty_task.id"],
            name=op.f("fk_duty_checkpoint_task_id_duty_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_checkpoint")),
        sa.UniqueConstraint(
            "task_id", "position", name=op.f("uq_duty_checkpoint_task_id_position")
        ),
    )
    op.create_table(
        "duty_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(), nullable=True),
        sa.Column("checked_out_at", sa.DateTime(), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("points_awarded", sa.Integer(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "status IN ('claimed', 'waiting', 'cancelled', 'on_duty', "
            "'reported', 'approved', 'rejected', 'no_show')",
            name=op.f("ck_duty_claim_status"),
        ),
        sa.CheckConstraint("points_awarded >= 0", name=op.f("ck_duty_claim_points_ge_zero")),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user.id"],
            name=op.f("fk_duty_claim_decided_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["duty_task.id"],
            name=op.f("fk_duty_claim_task_id_duty_task"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["volunteer_id"],
            ["user.id"],
            name=op.f("fk_duty_claim_volunteer_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_claim")),
    )
    with op.batch_alter_table("duty_claim", schema=None) as batch_op:
        batch_op.create_index(
            "ix_duty_claim_task_id_status", ["task_id", "status", "claimed_at"], unique=False
        )
        batch_op.create_index(
            "ix_duty_claim_volunteer_id_status", ["volunteer_id", "status"], unique=False
        )
        batch_op.create_index(
            "uq_duty_claim_task_id_volunteer_id_live",
            ["task_id", "volunteer_id"],
            unique=True,
            sqlite_where=sa.text("status <> 'cancelled'"),
            postgresql_where=sa.text("status <> 'cancelled'"),
        )

    op.create_table(
        "checkpoint_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("checkpoint_id", sa.Integer(), nullable=False),
        sa.Column("visited_at", sa.DateTime(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["duty_checkpoint.id"],
            name=op.f("fk_checkpoint_visit_checkpoint_id_duty_checkpoint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["duty_claim.id"],
            name=op.f("fk_checkpoint_visit_claim_id_duty_claim"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint_visit")),
        sa.UniqueConstraint(
            "claim_id", "checkpoint_id", name=op.f("uq_checkpoint_visit_claim_id_checkpoint_id")
        ),
    )
    with op.batch_alter_table("checkpoint_visit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checkpoint_visit_checkpoint_id"), ["checkpoint_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("checkpoint_visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkpoint_visit_checkpoint_id"))

    op.drop_table("checkpoint_visit")
    with op.batch_alter_table("duty_claim", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_duty_claim_task_id_volunteer_id_live",
            sqlite_where=sa.text("status <> 'cancelled'"),
            postgresql_where=sa.text("status <> 'cancelled'"),
        )
        batch_op.drop_index("ix_duty_claim_volunteer_id_status")
        batch_op.drop_index("ix_duty_claim_task_id_status")

    op.drop_table("duty_claim")
    op.drop_table("duty_checkpoint")
    with op.batch_alter_table("duty_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duty_task_team_id"))
        batch_op.drop_index("ix_duty_task_status_ends_at")
        batch_op.drop_index(batch_op.f("ix_duty_task_starts_at"))
        batch_op.drop_index(batch_op.f("ix_duty_task_series_id"))
        batch_op.drop_index("ix_duty_task_area_id_starts_at")

    op.drop_table("duty_task")
