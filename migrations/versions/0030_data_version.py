"""data_version: the token every writing transaction replaces (core.versions)

Revision ID: 0030_data_version
Revises: 0029_mediation_scale
Create Date: 2026-12-08 01:20:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0030_data_version"
down_revision = "0029_mediation_scale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.bulk_insert(table, [{"id": 1, "token": 1}])


def downgrade() -> None:
    op.drop_table("data_version")
