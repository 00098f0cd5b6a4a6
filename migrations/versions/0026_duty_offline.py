"""duty offline actions and tracks (reserved: filled by the package's own commit)

Revision ID: 0026_duty_offline
Revises: 0025_outreach
Create Date: 2026-12-07 22:00:00
"""

# revision identifiers, used by Alembic.
revision = "0026_duty_offline"
down_revision = "0025_outreach"
branch_labels = None
depends_on = None


def upgrade():
    # Reserved in the chain while the package is built; its commit replaces this body.
    return None


def downgrade():
    return None
