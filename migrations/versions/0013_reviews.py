"""reviews: yellow card proposals waiting for the police's decision

Revision ID: 0013_reviews
Revises: 0010_duty
Create Date: 2026-11-30 20:30:00

yellow_card_proposal: written by the report service when a landlord or property
company reaches COMPLIANCE_YELLOW_CARD_LATE late reports in a month; the police
issue the card or dismiss the proposal in the review queue.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013_reviews"
down_revision = "0010_duty"
branch_labels = None
depends_on = None

ONE_TARGET = "(user_id IS NULL) <> (organization_id IS NULL)"


def upgrade():
    op.create_table(
        "yellow_card_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.CheckConstraint(ONE_TARGET, name=op.f("ck_yellow_card_proposal_one_target")),
        sa.CheckConstraint(
            "status IN ('pending', 'issued', 'dismissed')",
            name=op.f("ck_yellow_card_proposal_status"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["area.id"],
            name=op.f("fk_yellow_card_proposal_area_id_area"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user.id"],
            name=op.f("fk_yellow_card_proposal_decided_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_yellow_card_proposal_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_yellow_card_proposal_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_yellow_card_proposal")),
        sa.UniqueConstraint(
            "organization_id", "month", name=op.f("uq_yellow_card_proposal_organization_id_month")
        ),
        sa.UniqueConstraint(
            "user_id", "month", name=op.f("uq_yellow_card_proposal_user_id_month")
        ),
    )
    with op.batch_alter_table("yellow_card_proposal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_yellow_card_proposal_area_id"), ["area_id"], unique=False
        )
        batch_op.create_index(
            "ix_yellow_card_proposal_status_created_at", ["status", "created_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("yellow_card_proposal", schema=None) as batch_op:
        batch_op.drop_index("ix_yellow_card_proposal_status_created_at")
        batch_op.drop_index(batch_op.f("ix_yellow_card_proposal_area_id"))
    op.drop_table("yellow_card_proposal")
