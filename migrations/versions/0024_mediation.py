"""mediation: teams, rooms, cases, parties, sessions (reserved: filled by the package's own commit)

Revision ID: 0024_mediation
Revises: 0023_stored_file
Create Date: 2026-12-07 22:00:00
"""

# revision identifiers, used by Alembic.
revision = "0024_mediation"
down_revision = "0023_stored_file"
branch_labels = None
depends_on = None


def upgrade():
    # Reserved in the chain while the package is built; its commit replaces this body.
    return None


def downgrade():
    return None
