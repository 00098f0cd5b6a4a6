"""residence: each report keeps its own facts; no shared person facts

Revision ID: 0019_report_facts
Revises: 0018_import_claim
Create Date: 2026-12-07 19:10:00

A report in one area changed what another area saw: the name, phone and hometown
lived on the person, shared by every residence of that ID number, and any report
(even a pending one) rewrote them. They move to the residence (the facts of that
report; the phone stays AES-GCM ciphertext — copied as it is, it is not bound to
its column), and the person keeps only what the ID number says.

`uq_residence_active_person` (one active residence per person, anywhere) goes:
verifying a residence now ends only the person's residences the verifying officer
polices; one in another area stays until its own police record the move-out.
Verifications of one person take turns on the person row instead.

Downgrade puts the facts of each person's newest residence back on the person and
recreates the index (it fails when a person is active in two areas: end one first).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019_report_facts"
down_revision = "0018_import_claim"
branch_labels = None
depends_on = None

ACTIVE = "status = 'verified' AND move_out IS NULL"


def upgrade():
    op.add_column(
        "residence", sa.Column("name", sa.String(length=60), nullable=False, server_default="")
    )
    op.add_column("residence", sa.Column("phone", sa.String(length=120), nullable=True))
    op.add_column("residence", sa.Column("hometown", sa.String(length=60), nullable=True))
    op.execute(
        "UPDATE residence SET "
        "name = (SELECT p.name FROM person p WHERE p.id = residence.person_id), "
        "phone = (SELECT p.phone FROM person p WHERE p.id = residence.person_id), "
        "hometown = (SELECT p.hometown FROM person p WHERE p.id = residence.person_id)"
    )
    op.drop_index(
        "uq_residence_active_person",
        table_name="residence",
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )
    # SQLite >= 3.35 drops a column that no index or constraint names in place.
    for column in ("name", "phone", "hometown"):
        op.drop_column("person", column)


def downgrade():
    op.add_column(
        "person", sa.Column("name", sa.String(length=60), nullable=False, server_default="")
    )
    op.add_column("person", sa.Column("phone", sa.String(length=120), nullable=True))
    op.add_column("person", sa.Column("hometown", sa.String(length=60), nullable=True))
    newest = (
        "(SELECT r.{col} FROM residence r WHERE r.person_id = person.id "
        "ORDER BY r.reported_at DESC, r.id DESC LIMIT 1)"
    )
    op.execute(
        "UPDATE person SET "
        f"name = COALESCE({newest.format(col='name')}, ''), "
        f"phone = {newest.format(col='phone')}, "
        f"hometown = {newest.format(col='hometown')}"
    )
    op.create_index(
        "uq_residence_active_person",
        "residence",
        ["person_id"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )
    for column in ("hometown", "phone", "name"):
        op.drop_column("residence", column)
