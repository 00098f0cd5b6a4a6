"""site: stored next due inspection date, cadence and first day of the 双无 badge;
the sites' area counters

Revision ID: 0027_site_due_stored
Revises: 0026_duty_offline
Create Date: 2026-12-07 22:00:00

due_on, cadence_days and shuangwu_on are derived from the site's row by the rules
(inspections.queries.next_due_on / cadence_days, places.queries.shuangwu_from) and
kept by places.stored at every change; the rows already there are filled here with
the rules as they stand at this revision. ix_site_due now leads with due_on (the
due list reads its pages in order from it); ix_site_area_due serves each area of a
scope on its own (PostgreSQL only). The sites' counters (sites.total, sites.admitted,
sites.stars.N, sites.shuangwu) are filled like `flask rebuild-rollups` would.
"""

from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

from community.core.timeutil import local_date, today

# revision identifiers, used by Alembic.
revision = "0027_site_due_stored"
down_revision = "0026_duty_offline"
branch_labels = None
depends_on = None

# The rules at this revision (the code's own are the definitions from now on).
STAR_CADENCE_DAYS = {5: 90, 4: 60, 3: 30, 2: 14, 1: 14}
NOT_ADMITTED_CADENCE_DAYS = 14
UNRATED_CADENCE_DAYS = 30
SHUANGWU_DAYS = 365
TOTAL = date(1970, 1, 1)


def _cadence(admitted_on, stars):
    if admitted_on is None:
        return NOT_ADMITTED_CADENCE_DAYS
    if stars is None:
        return UNRATED_CADENCE_DAYS
    return STAR_CADENCE_DAYS.get(stars, NOT_ADMITTED_CADENCE_DAYS)


def _shuangwu_on(created_at, admitted_on, last_incident_on):
    known = local_date(created_at)
    if admitted_on is not None and admitted_on < known:
        known = admitted_on
    start = known + timedelta(days=SHUANGWU_DAYS)
    if last_incident_on is not None:
        start = max(start, last_incident_on + timedelta(days=SHUANGWU_DAYS + 1))
    return start


def upgrade():
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("cadence_days", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("shuangwu_on", sa.Date(), nullable=True))
        batch_op.drop_index("ix_site_due")
        batch_op.create_index("ix_site_due", ["due_on", "name", "area_id"], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # see the model: SQLite would misuse it
        op.create_index("ix_site_area_due", "site", ["area_id", "due_on", "name"], unique=False)

    site = sa.table(
        "site",
        sa.column("id", sa.Integer),
        sa.column("area_id", sa.Integer),
        sa.column("created_at", sa.DateTime),
        sa.column("admitted_on", sa.Date),
        sa.column("last_inspected_on", sa.Date),
        sa.column("last_incident_on", sa.Date),
        sa.column("stars", sa.Integer),
        sa.column("due_on", sa.Date),
        sa.column("cadence_days", sa.SmallInteger),
        sa.column("shuangwu_on", sa.Date),
    )
    write = (
        site.update()
        .where(site.c.id == sa.bindparam("site_id"))
        .values(
            due_on=sa.bindparam("v_due"),
            cadence_days=sa.bindparam("v_cadence"),
            shuangwu_on=sa.bindparam("v_shuangwu"),
        )
    )
    counters: dict = {}
    day = today()

    def count(key, n=1):
        counters[key] = counters.get(key, 0) + n

    rows = bind.execute(
        sa.select(
            site.c.id,
            site.c.area_id,
            site.c.created_at,
            site.c.admitted_on,
            site.c.last_inspected_on,
            site.c.last_incident_on,
            site.c.stars,
        ).order_by(site.c.id)
    ).all()
    values = []
    for row in rows:
        cadence = _cadence(row.admitted_on, row.stars)
        due = row.last_inspected_on + timedelta(days=cadence) if row.last_inspected_on else None
        shuangwu = _shuangwu_on(row.created_at, row.admitted_on, row.last_incident_on)
        values.append(
            {"site_id": row.id, "v_due": due, "v_cadence": cadence, "v_shuangwu": shuangwu}
        )
        count((row.area_id, TOTAL, "sites.total"))
        if row.admitted_on is not None:
            count((row.area_id, TOTAL, "sites.admitted"))
        if row.stars in STAR_CADENCE_DAYS:
            count((row.area_id, TOTAL, f"sites.stars.{row.stars}"))
        count((row.area_id, TOTAL if shuangwu <= day else shuangwu, "sites.shuangwu"))
    for start in range(0, len(values), 5000):
        bind.execute(write, values[start : start + 5000])
    rollup = sa.table(
        "rollup_month",
        sa.column("area_id", sa.Integer),
        sa.column("month", sa.Date),
        sa.column("metric", sa.String),
        sa.column("value", sa.Integer),
    )
    bind.execute(rollup.delete().where(rollup.c.metric.like("sites.%")))
    items = [
        {"area_id": a, "month": m, "metric": k, "value": v} for (a, m, k), v in counters.items()
    ]
    for start in range(0, len(items), 5000):
        bind.execute(rollup.insert(), items[start : start + 5000])


def downgrade():
    rollup = sa.table("rollup_month", sa.column("metric", sa.String))
    op.get_bind().execute(rollup.delete().where(rollup.c.metric.like("sites.%")))
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_site_area_due", table_name="site")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_index("ix_site_due")
        batch_op.create_index("ix_site_due", ["last_inspected_on", "name", "area_id"], unique=False)
        batch_op.drop_column("shuangwu_on")
        batch_op.drop_column("cadence_days")
        batch_op.drop_column("due_on")
