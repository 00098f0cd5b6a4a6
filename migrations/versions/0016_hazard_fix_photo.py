"""hazard: the photo taken after the fix

Revision ID: 0016_hazard_fix_photo
Revises: 0012_rollups
Create Date: 2026-12-07 13:00:00

hazard.fix_photo: the random file name (under UPLOAD_DIR) of the photo the fixer
took, shown beside the photo of the report; NULL when none was sent.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016_hazard_fix_photo"
down_revision = "0012_rollups"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("hazard", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fix_photo", sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table("hazard", schema=None) as batch_op:
        batch_op.drop_column("fix_photo")
