"""site: index for the inspections-due list

Revision ID: 0015_site_due
Revises: 0014_residents_more
Create Date: 2026-11-30 21:00:00

ix_site_due (last_inspected_on, name, area_id): never-inspected sites are paged in
name order and counted (with the area scope) from the index alone.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0015_site_due"
down_revision = "0014_residents_more"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_site_due", "site", ["last_inspected_on", "name", "area_id"], unique=False)


def downgrade():
    op.drop_index("ix_site_due", table_name="site")
