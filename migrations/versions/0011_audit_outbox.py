"""audit_outbox: the audit log's client address, filter indexes and append-only
triggers; the outbox of SMS/e-mail messages; the per-user daily digest option

Revision ID: 0011_audit_outbox
Revises: 0015_site_due
Create Date: 2026-11-30 20:30:00

audit_event becomes append-only in the database: triggers refuse UPDATE and DELETE
(and TRUNCATE on PostgreSQL) on both PostgreSQL and SQLite. Its actor_id changes
from ON DELETE SET NULL (which would UPDATE audit rows) to RESTRICT: users are
disabled, never deleted. A later migration that rebuilds audit_event on SQLite
(batch mode copies the table) drops these triggers and must create them again
(see create_audit_triggers below).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011_audit_outbox"
down_revision = "0015_site_due"
branch_labels = None
depends_on = None

REFUSAL = "audit_event is append-only"


def create_audit_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_event_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )


def drop_audit_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_refuse_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")


def upgrade():
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=64), nullable=True))
        batch_op.drop_constraint("fk_audit_event_actor_id_user", type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_event_actor_id_user"),
            "user",
            ["actor_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_index("ix_audit_event_actor_id", ["actor_id", "id"], unique=False)
        batch_op.create_index(
            "ix_audit_event_object", ["object_type", "object_id", "id"], unique=False
        )
        batch_op.create_index("ix_audit_event_action", ["action", "id"], unique=False)
    create_audit_triggers()

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notify_digest", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_created_at", ["created_at"], unique=False)

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f("ck_outbox_message_channel")),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_outbox_message_notification_id_notification"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_outbox_message_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_message_idempotency_key")),
        sa.UniqueConstraint("notification_id", name=op.f("uq_outbox_message_notification_id")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_message_due", ["sent_at", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_message_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_user_id"))
        batch_op.drop_index("ix_outbox_message_due")
    op.drop_table("outbox_message")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_created_at")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("notify_digest")

    drop_audit_triggers()
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_action")
        batch_op.drop_index("ix_audit_event_object")
        batch_op.drop_index("ix_audit_event_actor_id")
        batch_op.drop_constraint("fk_audit_event_actor_id_user", type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_event_actor_id_user"),
            "user",
            ["actor_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.drop_column("address")
