"""outreach coverage at district scale: each site's stored room count, ordered by
ix_site_rooms; the active employees of each enterprise through a partial index;
membership.lead (a volunteer team's lead publishes its outreach events)

Revision ID: 0028_outreach_scale
Revises: 0027_site_due_stored
Create Date: 2026-12-08 01:00:00

site.room_count is kept by places.stored at every flush that adds, removes or
moves a room; the rows already there are counted here. ix_site_rooms reads the
sites never visited largest first; ix_residence_employer_active counts an
enterprise's registered employees (outreach.queries.employees_registered) from
the index alone.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0028_outreach_scale"
down_revision = "0027_site_due_stored"
branch_labels = None
depends_on = None

ACTIVE_EMPLOYED = "status = 'verified' AND move_out IS NULL AND employer IS NOT NULL"


def upgrade() -> None:
    # A plain ADD COLUMN: a batch copy of the table would drop the triggers that
    # keep SQLite's site search index (0005_site_search) in step.
    op.add_column("site", sa.Column("room_count", sa.Integer(), server_default="0", nullable=False))
    # One aggregate over the rooms, then the sites that have any, in batches (a
    # correlated count per site may be planned as a scan of room per site).
    bind = op.get_bind()
    counted = bind.execute(
        sa.text(
            "SELECT building.site_id, count(room.id) FROM building"
            " JOIN room ON room.building_id = building.id GROUP BY building.site_id"
        )
    ).all()
    site = sa.table("site", sa.column("id", sa.Integer), sa.column("room_count", sa.Integer))
    write = (
        site.update()
        .where(site.c.id == sa.bindparam("site_id"))
        .values(room_count=sa.bindparam("v_rooms"))
    )
    values = [{"site_id": site_id, "v_rooms": n} for site_id, n in counted]
    for start in range(0, len(values), 5000):
        bind.execute(write, values[start : start + 5000])
    op.create_index("ix_site_rooms", "site", [sa.text("room_count DESC"), "name", "id"])
    op.create_index(
        "ix_residence_employer_active",
        "residence",
        ["employer"],
        sqlite_where=sa.text(ACTIVE_EMPLOYED),
        postgresql_where=sa.text(ACTIVE_EMPLOYED),
    )

    op.add_column(
        "membership",
        sa.Column("lead", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("membership", "lead")
    op.drop_index("ix_residence_employer_active", table_name="residence")
    op.drop_index("ix_site_rooms", table_name="site")
    op.drop_column("site", "room_count")
