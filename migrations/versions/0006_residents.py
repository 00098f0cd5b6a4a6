"""residents: persons (ID number and phone encrypted) and their residences

Revision ID: 0006_residents
Revises: 0005_site_search
Create Date: 2026-11-30 17:54:16

`person.id_number` and `person.phone` hold AES-GCM ciphertext (core.crypto,
key COMMUNITY_DATA_KEY), never the plain values; `person.id_hash` is the keyed
hash that finds a person again. `uq_residence_active_person` is the backstop of
"one active residence per person" (verified and not moved out): a partial
unique index on both SQLite and PostgreSQL.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006_residents"
down_revision = "0005_site_search"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("id_number", sa.String(length=120), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=120), nullable=True),
        sa.Column("hometown", sa.String(length=60), nullable=True),
        sa.Column("gender", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("gender IN ('M', 'F')", name=op.f("ck_person_gender")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_person_id_hash")),
    )
    op.create_table(
        "residence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("move_in", sa.Date(), nullable=False),
        sa.Column("move_out", sa.Date(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("reported_at", sa.DateTime(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("employer", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("verified_by_id", sa.Integer(), nullable=True),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "channel IN ('landlord', 'property_manager', 'enterprise', 'self_declared', 'police')",
            name=op.f("ck_residence_channel"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'verified', 'rejected')", name=op.f("ck_residence_status")
        ),
        sa.CheckConstraint(
            "move_out IS NULL OR move_out >= move_in", name=op.f("ck_residence_dates")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_residence_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["user.id"],
            name=op.f("fk_residence_reporter_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["room.id"], name=op.f("fk_residence_room_id_room"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_id"],
            ["user.id"],
            name=op.f("fk_residence_verified_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residence")),
        sa.UniqueConstraint("reference", name=op.f("uq_residence_reference")),
    )
    with op.batch_alter_table("residence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_residence_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_residence_reporter_id"), ["reporter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_residence_room_id"), ["room_id"], unique=False)
        batch_op.create_index(
            "ix_residence_status_reported_at", ["status", "reported_at"], unique=False
        )
        batch_op.create_index(
            "uq_residence_active_person",
            ["person_id"],
            unique=True,
            sqlite_where=sa.text("status = 'verified' AND move_out IS NULL"),
            postgresql_where=sa.text("status = 'verified' AND move_out IS NULL"),
        )


def downgrade():
    with op.batch_alter_table("residence", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_residence_active_person",
            sqlite_where=sa.text("status = 'verified' AND move_out IS NULL"),
            postgresql_where=sa.text("status = 'verified' AND move_out IS NULL"),
        )
        batch_op.drop_index("ix_residence_status_reported_at")
        batch_op.drop_index(batch_op.f("ix_residence_room_id"))
        batch_op.drop_index(batch_op.f("ix_residence_reporter_id"))
        batch_op.drop_index(batch_op.f("ix_residence_person_id"))

    op.drop_table("residence")
    op.drop_table("person")
