"""site.enterprise_id (a dormitory's enterprise); assessment list indexes

Revision ID: 0004_site_enterprise
Revises: 0003_login_failures
Create Date: 2026-11-30 17:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_site_enterprise'
down_revision = '0003_login_failures'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enterprise_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_site_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_site_enterprise_id_organization'),
            'organization',
            ['enterprise_id'],
            ['id'],
            ondelete='SET NULL',
        )
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.create_index('ix_assessment_month_id', ['month', 'id'], unique=False)
        batch_op.create_index(
            'ix_assessment_status_submitted', ['status', 'submitted_at', 'id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_index('ix_assessment_status_submitted')
        batch_op.drop_index('ix_assessment_month_id')
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_site_enterprise_id_organization'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_site_enterprise_id'))
        batch_op.drop_column('enterprise_id')
