"""compliance: the points ledger of residence reports and yellow cards

Revision ID: 0008_compliance
Revises: 0007_imports
Create Date: 2026-11-30 18:40:00

points_entry: one row per report by a landlord or property company (+1 timely,
-2 late by default); balances are sums. yellow_card: issued by the police.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008_compliance"
down_revision = "0007_imports"
branch_labels = None
depends_on = None

ONE_TARGET = "(user_id IS NULL) <> (organization_id IS NULL)"


def upgrade():
    op.create_table(
        "points_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("residence_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(ONE_TARGET, name=op.f("ck_points_entry_one_target")),
        sa.CheckConstraint("reason IN ('timely', 'late')", name=op.f("ck_points_entry_reason")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_points_entry_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["residence_id"],
            ["residence.id"],
            name=op.f("fk_points_entry_residence_id_residence"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_points_entry_site_id_site"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_points_entry_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_entry")),
        sa.UniqueConstraint("residence_id", name=op.f("uq_points_entry_residence_id")),
    )
    with op.batch_alter_table("points_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_points_entry_site_id_month", ["site_id", "month"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_points_entry_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_points_entry_organization_id"), ["organization_id"], unique=False
        )
    op.create_table(
        "yellow_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(ONE_TARGET, name=op.f("ck_yellow_card_one_target")),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["user.id"],
            name=op.f("fk_yellow_card_issued_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_yellow_card_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_yellow_card_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_yellow_card")),
    )
    with op.batch_alter_table("yellow_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_yellow_card_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_yellow_card_organization_id"), ["organization_id"], unique=False
        )


def downgrade():
    op.drop_table("yellow_card")
    op.drop_table("points_entry")
