"""duty offline actions and tracks

Revision ID: 0026_duty_offline
Revises: 0025_outreach
Create Date: 2026-12-07 22:00:00

duty_offline_action: the idempotency keys of on-duty steps sent from the phone's
queue (one per user and key), the request's fingerprint, the first answer, and the
phone's and the server's times. duty_track_point: the route walked (encrypted
positions, one per claim and time). duty_checkpoint.lat/lon: the place of a
checkpoint; checkpoint_visit.near/received_at: a tick near that place, and when the
server got it; duty_claim.track_consent: the volunteer's answer to recording.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0026_duty_offline"
down_revision = "0025_outreach"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "duty_offline_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("client_at", sa.DateTime(), nullable=True),
        sa.Column("client_sent_at", sa.DateTime(), nullable=True),
        sa.Column("fix_at", sa.DateTime(), nullable=True),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.Column("server_at", sa.DateTime(), nullable=False),
        sa.Column("clock_skew_s", sa.Integer(), nullable=True),
        sa.Column("flags", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "action IN ('check_in', 'visit', 'check_out', 'track')",
            name=op.f("ck_duty_offline_action_action"),
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["duty_claim.id"],
            name=op.f("fk_duty_offline_action_claim_id_duty_claim"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_duty_offline_action_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_offline_action")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_duty_offline_action_user_id_key")),
    )
    with op.batch_alter_table("duty_offline_action", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_duty_offline_action_claim_id"), ["claim_id"], unique=False
        )
        batch_op.create_index("ix_duty_offline_action_server_at", ["server_at"], unique=False)

    op.create_table(
        "duty_track_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("position", sa.String(length=200), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["duty_claim.id"],
            name=op.f("fk_duty_track_point_claim_id_duty_claim"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_track_point")),
        sa.UniqueConstraint(
            "claim_id", "recorded_at", name=op.f("uq_duty_track_point_claim_id_recorded_at")
        ),
    )
    with op.batch_alter_table("duty_track_point", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_duty_track_point_received_at"), ["received_at"], unique=False
        )

    with op.batch_alter_table("duty_checkpoint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("lon", sa.Float(), nullable=True))
    with op.batch_alter_table("checkpoint_visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("near", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("received_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("duty_claim", schema=None) as batch_op:
        batch_op.add_column(sa.Column("track_consent", sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table("duty_claim", schema=None) as batch_op:
        batch_op.drop_column("track_consent")
    with op.batch_alter_table("checkpoint_visit", schema=None) as batch_op:
        batch_op.drop_column("received_at")
        batch_op.drop_column("near")
    with op.batch_alter_table("duty_checkpoint", schema=None) as batch_op:
        batch_op.drop_column("lon")
        batch_op.drop_column("lat")
    with op.batch_alter_table("duty_track_point", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duty_track_point_received_at"))
    op.drop_table("duty_track_point")
    with op.batch_alter_table("duty_offline_action", schema=None) as batch_op:
        batch_op.drop_index("ix_duty_offline_action_server_at")
        batch_op.drop_index(batch_op.f("ix_duty_offline_action_claim_id"))
    op.drop_table("duty_offline_action")
