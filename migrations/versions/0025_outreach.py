"""outreach: events, sign-ins, visit requests (reserved: filled by the package's own commit)

Revision ID: 0025_outreach
Revises: 0024_mediation
Create Date: 2026-12-07 22:00:00
"""

# revision identifiers, used by Alembic.
revision = "0025_outreach"
down_revision = "0024_mediation"
branch_labels = None
depends_on = None


def upgrade():
    # Reserved in the chain while the package is built; its commit replaces this body.
    return None


def downgrade():
    return None
