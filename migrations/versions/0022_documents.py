"""person: the identity document's type and country; residence: the Latin name

Revision ID: 0022_documents
Revises: 0020_periodic_job
Create Date: 2026-12-07 19:50:00

Not every resident holds a mainland resident ID card (residents/documents.py):
person.document_type (default the ID card, which every person so far holds) and
person.nationality (ISO 3166 alpha-3, for passports and foreign permanent-resident
cards); residence.latin_name, the name as a passport writes it (a fact of the
report, like the name). The keyed hash of an 18-character number is unchanged,
so the people recorded so far find themselves again.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022_documents"
down_revision = "0020_periodic_job"
branch_labels = None
depends_on = None

TYPES = (
    "document_type IN ('id_card', 'residence_permit', 'permanent_residence', "
    "'hk_macao_permit', 'taiwan_permit', 'passport')"
)


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its CHECK in place (no table copy, which would
        # cascade-delete the residences through their foreign key).
        op.execute(
            "ALTER TABLE person ADD COLUMN document_type VARCHAR(24) DEFAULT 'id_card' "
            f"NOT NULL CONSTRAINT ck_person_document_type CHECK ({TYPES})"
        )
    else:
        op.add_column(
            "person",
            sa.Column(
                "document_type", sa.String(length=24), nullable=False, server_default="id_card"
            ),
        )
        op.create_check_constraint("ck_person_document_type", "person", TYPES)
    op.add_column("person", sa.Column("nationality", sa.String(length=3), nullable=True))
    op.add_column("residence", sa.Column("latin_name", sa.String(length=80), nullable=True))


def downgrade():
    op.drop_column("residence", "latin_name")
    op.drop_column("person", "nationality")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("ck_person_document_type", "person", type_="check")
    op.drop_column("person", "document_type")
