"""site: stored next due inspection date (reserved: filled by the package's own commit)

Revision ID: 0027_site_due_stored
Revises: 0026_duty_offline
Create Date: 2026-12-07 22:00:00
"""

# revision identifiers, used by Alembic.
revision = "0027_site_due_stored"
down_revision = "0026_duty_offline"
branch_labels = None
depends_on = None


def upgrade():
    # Reserved in the chain while the package is built; its commit replaces this body.
    return None


def downgrade():
    return None
