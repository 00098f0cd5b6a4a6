"""stored_file, stored_file_chunk: files kept in the database

Revision ID: 0023_stored_file
Revises: 0022_documents
Create Date: 2026-12-07 19:00:00

The tables of core.storage's database backend (STORAGE_BACKEND=database): a file
(kind, key unique per kind, size, when written) and its bytes in chunks of 256 KiB
(file_id, seq). Empty until that backend is chosen; the local backend keeps using
UPLOAD_DIR and IMPORT_DIR.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023_stored_file"
down_revision = "0022_documents"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stored_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_file")),
        sa.UniqueConstraint("kind", "key", name=op.f("uq_stored_file_kind_key")),
    )
    op.create_index(
        "ix_stored_file_kind_updated_at", "stored_file", ["kind", "updated_at"], unique=False
    )
    op.create_table(
        "stored_file_chunk",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["stored_file.id"],
            name=op.f("fk_stored_file_chunk_file_id_stored_file"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("file_id", "seq", name=op.f("pk_stored_file_chunk")),
    )


def downgrade():
    op.drop_table("stored_file_chunk")
    op.drop_index("ix_stored_file_kind_updated_at", table_name="stored_file")
    op.drop_table("stored_file")
