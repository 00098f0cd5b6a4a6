"""outbox_message: the message's kind and params, for SMS templates

Revision ID: 0020_outbox_kind
Revises: 0019_report_facts
Create Date: 2026-12-07 19:30:00

outbox_message.kind: the notice's kind, or "digest"; outbox_message.params: the
values an SMS provider fills the kind's registered template with (JSON; cleaned
when queued: no ID or phone numbers). Messages queued before keep their text and
get the kind and params of their notice (a digest: its kind; its count is not
known any more).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020_outbox_kind"
down_revision = "0019_report_facts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
    notice = "FROM notification n WHERE n.id = outbox_message.notification_id"
    op.execute(
        f"UPDATE outbox_message SET kind = (SELECT n.kind {notice}), "
        f"params = (SELECT n.params {notice}) WHERE notification_id IS NOT NULL"
    )
    op.execute(
        "UPDATE outbox_message SET kind = 'digest' "
        "WHERE notification_id IS NULL AND idempotency_key LIKE 'digest:%'"
    )


def downgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("params")
        batch_op.drop_column("kind")
