"""rollups: per-area, per-month counters for the dashboard

Revision ID: 0012_rollups
Revises: 0013_reviews
Create Date: 2026-11-30 20:30:00

The counters of a database that already holds data are filled here, with the
definitions of the sources as they stand at this revision (residents.rollups and
places.rollups; `flask --app app rebuild-rollups` recomputes them with the current
code at any time).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012_rollups"
down_revision = "0013_reviews"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rollup_month",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["area.id"], name=op.f("fk_rollup_month_area_id_area"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("area_id", "month", "metric", name=op.f("pk_rollup_month")),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        month = "CAST(date_trunc('month', {}) AS DATE)".format
        total = "DATE '1970-01-01'"
    else:
        month = "date({}, 'start of month')".format
        total = "'1970-01-01'"
    place = (
        "FROM residence r JOIN room ON r.room_id = room.id "
        "JOIN building b ON room.building_id = b.id JOIN site s ON b.site_id = s.id "
        "WHERE r.status = 'verified'"
    )
    op.execute(
        f"""
        INSERT INTO rollup_month (area_id, month, metric, value)
        SELECT area_id, month, metric, SUM(value) FROM (
            SELECT s.area_id AS area_id, {month("r.move_in")} AS month,
                   'residents.active' AS metric, 1 AS value {place}
            UNION ALL
            SELECT s.area_id, {month("r.move_out")}, 'residents.active', -1 {place}
                   AND r.move_out IS NOT NULL
            UNION ALL
            SELECT s.area_id, p.month,
                   CASE WHEN p.reason = 'late' THEN 'reports.late' ELSE 'reports.timely' END, 1
            FROM points_entry p JOIN site s ON p.site_id = s.id
            UNION ALL
            SELECT s.area_id, {total}, 'rooms.occupants', room.occupants
            FROM room JOIN building b ON room.building_id = b.id JOIN site s ON b.site_id = s.id
        ) counted
        GROUP BY area_id, month, metric
        HAVING SUM(value) <> 0
        """
    )


def downgrade():
    op.drop_table("rollup_month")
