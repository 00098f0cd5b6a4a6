"""outreach coverage at district scale (reserved; filled by the outreach work)

Revision ID: 0028_outreach_scale
Revises: 0027_site_due_stored
Create Date: 2026-12-08 01:00:00
"""

# revision identifiers, used by Alembic.
revision = "0028_outreach_scale"
down_revision = "0027_site_due_stored"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
