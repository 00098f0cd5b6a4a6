"""outreach: events, sign-ins, visit requests, experience corners; duty kind 'publicity'

Revision ID: 0025_outreach
Revises: 0024_mediation
Create Date: 2026-12-07 22:00:00

Group visits of one experience corner never overlap: PostgreSQL's exclusion
constraint ex_outreach_event_corner_overlap (btree_gist), SQLite's triggers
outreach_event_corner_overlap_insert/_update (RAISE ABORT -> IntegrityError).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025_outreach"
down_revision = "0024_mediation"
branch_labels = None
depends_on = None

KINDS = (
    "'anti_fraud', 'legal', 'anti_drug', 'anti_gang', 'fire_safety', 'corner_visit', "
    "'safety_education'"
)
DUTY_KINDS_OLD = "'patrol', 'fire_check', 'legal_publicity', 'mediation', 'anti_fraud'"
DUTY_KINDS_NEW = DUTY_KINDS_OLD + ", 'publicity'"

_OVERLAP = """
    SELECT RAISE(ABORT, 'outreach corner booking overlaps')
    WHERE NEW.corner_id IS NOT NULL AND NEW.status <> 'cancelled' AND EXISTS (
        SELECT 1 FROM outreach_event o
        WHERE o.corner_id = NEW.corner_id AND o.id <> NEW.id AND o.status <> 'cancelled'
          AND o.starts_at < NEW.ends_at AND NEW.starts_at < o.ends_at);
"""


def _duty_kinds(kinds: str) -> None:
    with op.batch_alter_table("duty_task") as batch:
        batch.drop_constraint(op.f("ck_duty_task_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_duty_task_kind"), f"kind IN ({kinds})")


def upgrade():
    _duty_kinds(DUTY_KINDS_NEW)
    op.create_table(
        "outreach_corner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("closes > opens", name=op.f("ck_outreach_corner_hours")),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["area.id"],
            name=op.f("fk_outreach_corner_area_id_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_outreach_corner_site_id_site"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_corner")),
    )
    op.create_index(op.f("ix_outreach_corner_area_id"), "outreach_corner", ["area_id"])
    op.create_table(
        "outreach_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("target", sa.String(length=12), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("corner_id", sa.Integer(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("speakers", sa.String(length=200), nullable=True),
        sa.Column("planned_audience", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("signin_token", sa.String(length=40), nullable=False),
        sa.Column("duty_id", sa.Integer(), nullable=True),
        sa.Column("publisher_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("signins_counted", sa.Integer(), nullable=False),
        sa.Column("hand_count", sa.Integer(), nullable=False),
        sa.Column("attendance", sa.Integer(), nullable=False),
        sa.Column("materials", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_outreach_event_kind")),
        sa.CheckConstraint(
            "target IN ('enterprise', 'site', 'area', 'school', 'place')",
            name=op.f("ck_outreach_event_target"),
        ),
        sa.CheckConstraint(
            "status IN ('published', 'closed', 'cancelled')",
            name=op.f("ck_outreach_event_status"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_outreach_event_ends_after_start")),
        sa.CheckConstraint("planned_audience >= 0", name=op.f("ck_outreach_event_planned_ge_zero")),
        sa.CheckConstraint(
            "hand_count >= 0 AND materials >= 0", name=op.f("ck_outreach_event_counts_ge_zero")
        ),
        sa.CheckConstraint(
            "target <> 'enterprise' OR enterprise_id IS NOT NULL",
            name=op.f("ck_outreach_event_enterprise"),
        ),
        sa.CheckConstraint(
            "target <> 'site' OR site_id IS NOT NULL", name=op.f("ck_outreach_event_site")
        ),
        sa.CheckConstraint(
            "kind <> 'corner_visit' OR corner_id IS NOT NULL",
            name=op.f("ck_outreach_event_corner"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["area.id"],
            name=op.f("fk_outreach_event_area_id_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["organization.id"],
            name=op.f("fk_outreach_event_enterprise_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_outreach_event_site_id_site"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["corner_id"],
            ["outreach_corner.id"],
            name=op.f("fk_outreach_event_corner_id_outreach_corner"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["organiser_id"],
            ["organization.id"],
            name=op.f("fk_outreach_event_organiser_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["duty_id"],
            ["duty_task.id"],
            name=op.f("fk_outreach_event_duty_id_duty_task"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["publisher_id"],
            ["user.id"],
            name=op.f("fk_outreach_event_publisher_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_event")),
        sa.UniqueConstraint("signin_token", name=op.f("uq_outreach_event_signin_token")),
    )
    op.create_index(
        "ix_outreach_event_enterprise_kind_starts",
        "outreach_event",
        ["enterprise_id", "kind", "starts_at"],
    )
    op.create_index(
        "ix_outreach_event_site_kind_starts", "outreach_event", ["site_id", "kind", "starts_at"]
    )
    op.create_index("ix_outreach_event_area_starts", "outreach_event", ["area_id", "starts_at"])
    op.create_index("ix_outreach_event_corner_starts", "outreach_event", ["corner_id", "starts_at"])
    op.create_index(op.f("ix_outreach_event_organiser_id"), "outreach_event", ["organiser_id"])
    op.create_index(op.f("ix_outreach_event_duty_id"), "outreach_event", ["duty_id"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE outreach_event ADD CONSTRAINT ex_outreach_event_corner_overlap "
            "EXCLUDE USING gist (corner_id WITH =, tsrange(starts_at, ends_at) WITH &&) "
            "WHERE (corner_id IS NOT NULL AND status <> 'cancelled')"
        )
    else:
        op.execute(
            "CREATE TRIGGER outreach_event_corner_overlap_insert BEFORE INSERT ON outreach_event "
            f"BEGIN {_OVERLAP} END"
        )
        op.execute(
            "CREATE TRIGGER outreach_event_corner_overlap_update BEFORE UPDATE OF "
            "corner_id, starts_at, ends_at, status ON outreach_event "
            f"BEGIN {_OVERLAP} END"
        )
    op.create_table(
        "outreach_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.CheckConstraint("position BETWEEN 1 AND 3", name=op.f("ck_outreach_photo_position")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["outreach_event.id"],
            name=op.f("fk_outreach_photo_event_id_outreach_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_photo")),
        sa.UniqueConstraint(
            "event_id", "position", name=op.f("uq_outreach_photo_event_id_position")
        ),
    )
    op.create_table(
        "outreach_signin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("employer", sa.String(length=120), nullable=True),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("quiz_correct", sa.Integer(), nullable=True),
        sa.Column("quiz_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "quiz_correct IS NULL OR quiz_correct BETWEEN 0 AND 5",
            name=op.f("ck_outreach_signin_quiz"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["outreach_event.id"],
            name=op.f("fk_outreach_signin_event_id_outreach_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_signin")),
        sa.UniqueConstraint("event_id", "device", name=op.f("uq_outreach_signin_event_id_device")),
        sa.UniqueConstraint("event_id", "nonce", name=op.f("uq_outreach_signin_event_id_nonce")),
    )
    op.create_table(
        "outreach_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("preferred_from", sa.Date(), nullable=False),
        sa.Column("preferred_to", sa.Date(), nullable=False),
        sa.Column("audience", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_outreach_request_kind")),
        sa.CheckConstraint(
            "status IN ('waiting', 'scheduled', 'declined')",
            name=op.f("ck_outreach_request_status"),
        ),
        sa.CheckConstraint(
            "preferred_to >= preferred_from", name=op.f("ck_outreach_request_dates")
        ),
        sa.CheckConstraint("audience >= 1", name=op.f("ck_outreach_request_audience")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_outreach_request_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_outreach_request_site_id_site"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["area.id"],
            name=op.f("fk_outreach_request_area_id_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user.id"],
            name=op.f("fk_outreach_request_requested_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user.id"],
            name=op.f("fk_outreach_request_decided_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["outreach_event.id"],
            name=op.f("fk_outreach_request_event_id_outreach_event"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach_request")),
    )
    op.create_index(
        op.f("ix_outreach_request_organization_id"), "outreach_request", ["organization_id"]
    )
    op.create_index("ix_outreach_request_status_area", "outreach_request", ["status", "area_id"])


def downgrade():
    op.drop_table("outreach_request")
    op.drop_table("outreach_signin")
    op.drop_table("outreach_photo")
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TRIGGER IF EXISTS outreach_event_corner_overlap_insert")
        op.execute("DROP TRIGGER IF EXISTS outreach_event_corner_overlap_update")
    op.drop_table("outreach_event")
    op.drop_table("outreach_corner")
    op.execute("DELETE FROM duty_task WHERE kind = 'publicity'")
    _duty_kinds(DUTY_KINDS_OLD)
