"""mediation lists and figures at district scale: indexes on mediation_case

Revision ID: 0029_mediation_scale
Revises: 0028_outreach_scale
Create Date: 2026-12-08 01:00:00

ix_mediation_case_status serves the reads of open cases across scopes (the lists,
my cases, the overdue job): the open cases are a small backlog at the end of the
table. ix_mediation_case_concluded_at and ix_mediation_case_followup_at serve the
dashboard's figures by the month a case was concluded or visited (by the month it
was opened: ix_mediation_case_opened_at, 0024): cases are written in time order,
so a period is a range of the table. ix_mediation_case_risk_closed serves the
high-risk cases open at each month's end. See tests/mediation/test_scale_plans.py.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0029_mediation_scale"
down_revision = "0028_outreach_scale"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_mediation_case_status": ["status", "risk_rank", "opened_at"],
    "ix_mediation_case_concluded_at": ["concluded_at"],
    "ix_mediation_case_followup_at": ["followup_at"],
    "ix_mediation_case_risk_closed": ["risk_rank", "closed_at"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "mediation_case", columns, unique=False)


def downgrade() -> None:
    for name in reversed(INDEXES):
        op.drop_index(name, table_name="mediation_case")
