"""mediation lists and figures at district scale (reserved; filled by the mediation work)

Revision ID: 0029_mediation_scale
Revises: 0028_outreach_scale
Create Date: 2026-12-08 01:00:00
"""

# revision identifiers, used by Alembic.
revision = "0029_mediation_scale"
down_revision = "0028_outreach_scale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
