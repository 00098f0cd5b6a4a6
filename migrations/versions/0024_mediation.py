"""mediation: teams, rooms, cases, parties, sessions (never double-booked)

Revision ID: 0024_mediation
Revises: 0023_stored_file
Create Date: 2026-12-07 22:00:00

The role `mediator` and the organization kind `mediation_team` join the CHECK
constraints of membership and organization. SQLite: the CHECK is loosened in the
stored schema (the documented writable_schema procedure for CHECK changes): a
table copy (batch mode) would drop organization, and its implicit DELETE would
cascade to every membership.

The guarantee that a room and a mediator are never double-booked:
PostgreSQL: exclusion constraints (btree_gist) on tsrange(starts_at, ends_at) per
room and per mediator, for sessions not cancelled. SQLite: BEFORE INSERT / UPDATE
triggers that abort on an overlap (writers are serialised, so the check cannot
race). Coupled: a later batch_alter_table of mediation_session drops the triggers
with the old table and must create them again (SQLITE_TRIGGERS).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0024_mediation"
down_revision = "0023_stored_file"
branch_labels = None
depends_on = None

CHECKS = {
    # table: (constraint, old tail, new tail)
    "organization": (
        "ck_organization_kind",
        "'volunteer_team')",
        "'volunteer_team', 'mediation_team')",
    ),
    "membership": ("ck_membership_role", "'volunteer')", "'volunteer', 'mediator')"),
}
PG_CHECKS = {
    "organization": (
        "ck_organization_kind",
        "kind IN ('police_station', 'community_office', 'landlord_association', "
        "'property_company', 'enterprise', 'volunteer_team'{extra})",
        ", 'mediation_team'",
    ),
    "membership": (
        "ck_membership_role",
        "role IN ('admin', 'police', 'coordinator', 'association', 'landlord', "
        "'property_manager', 'enterprise', 'volunteer'{extra})",
        ", 'mediator'",
    ),
}

_OVERLAP = """
    SELECT RAISE(ABORT, 'mediation_session_{what}_overlap') WHERE EXISTS (
        SELECT 1 FROM mediation_session s
        WHERE s.{column} = NEW.{column} AND s.status <> 'cancelled' {other}
          AND s.starts_at < NEW.ends_at AND NEW.starts_at < s.ends_at);"""


def _body(other: str) -> str:
    return _OVERLAP.format(what="room", column="room_id", other=other) + _OVERLAP.format(
        what="mediator", column="mediator_id", other=other
    )


SQLITE_TRIGGERS = {
    "mediation_session_no_overlap_insert": (
        "CREATE TRIGGER mediation_session_no_overlap_insert BEFORE INSERT ON mediation_session "
        f"WHEN NEW.status <> 'cancelled' BEGIN {_body('')} END"
    ),
    "mediation_session_no_overlap_update": (
        "CREATE TRIGGER mediation_session_no_overlap_update BEFORE UPDATE OF "
        "room_id, mediator_id, starts_at, ends_at, status ON mediation_session "
        f"WHEN NEW.status <> 'cancelled' BEGIN {_body('AND s.id <> NEW.id')} END"
    ),
}
PG_EXCLUSIONS = {
    "ex_mediation_session_room": "room_id",
    "ex_mediation_session_mediator": "mediator_id",
}


def _sqlite_check(table: str, old: str, new: str) -> None:
    """Rewrite one CHECK in SQLite's stored schema (its documented procedure for
    schema changes that leave the stored rows valid)."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar()
    if old not in sql:
        raise RuntimeError(f"{table}: the CHECK to change was not found")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
        (sql.replace(old, new, 1), table),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def _checks(upgrade: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, (_name, old, new) in CHECKS.items():
            _sqlite_check(table, *((old, new) if upgrade else (new, old)))
        return
    for table, (name, condition, extra) in PG_CHECKS.items():
        op.drop_constraint(op.f(name), table, type_="check")
        op.create_check_constraint(
            op.f(name), table, condition.format(extra=extra if upgrade else "")
        )


def upgrade():
    _checks(upgrade=True)
    op.create_table(
        "mediation_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.String(length=12), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "category IN ('professional', 'social', 'part_time')",
            name=op.f("ck_mediation_member_category"),
        ),
        sa.CheckConstraint(
            "position IN ('lead', 'mediator')", name=op.f("ck_mediation_member_position")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["organization.id"],
            name=op.f("fk_mediation_member_team_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_mediation_member_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_member")),
        sa.UniqueConstraint("team_id", "user_id", name=op.f("uq_mediation_member_team_id_user_id")),
    )
    op.create_index(
        op.f("ix_mediation_member_user_id"), "mediation_member", ["user_id"], unique=False
    )
    op.create_table(
        "mediation_room",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("closes > opens", name=op.f("ck_mediation_room_hours")),
        sa.CheckConstraint(
            "kind IN ('flagship', 'outstation')", name=op.f("ck_mediation_room_kind")
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["area.id"],
            name=op.f("fk_mediation_room_area_id_area"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_room")),
        sa.UniqueConstraint("area_id", "name", name=op.f("uq_mediation_room_area_id_name")),
    )
    op.create_index(op.f("ix_mediation_room_area_id"), "mediation_room", ["area_id"], unique=False)
    user_fk = [
        "opened_by_id",
        "accepted_by_id",
        "concluded_by_id",
        "followup_by_id",
        "closed_by_id",
        "last_actor_id",
    ]
    op.create_table(
        "mediation_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=True),
        sa.Column("risk", sa.String(length=8), nullable=False),
        sa.Column("risk_rank", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("accept_due", sa.Date(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.Column("conclude_due", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("terms", sa.Text(), nullable=True),
        sa.Column("settled_amount", sa.Integer(), nullable=True),
        sa.Column("payment_schedule", sa.String(length=500), nullable=True),
        sa.Column("referral", sa.String(length=12), nullable=True),
        sa.Column("outcome_reason", sa.String(length=500), nullable=True),
        sa.Column("concluded_at", sa.DateTime(), nullable=True),
        sa.Column("concluded_by_id", sa.Integer(), nullable=True),
        sa.Column("followup_due", sa.Date(), nullable=True),
        sa.Column("followup_at", sa.DateTime(), nullable=True),
        sa.Column("followup_by_id", sa.Integer(), nullable=True),
        sa.Column("followup_performed", sa.Boolean(), nullable=True),
        sa.Column("followup_satisfied", sa.Boolean(), nullable=True),
        sa.Column("followup_note", sa.String(length=500), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("last_actor_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('rent', 'neighbour', 'wages', 'property', 'traffic', 'family', "
            "'consumer', 'other')",
            name=op.f("ck_mediation_case_kind"),
        ),
        sa.CheckConstraint(
            "source IN ('police', 'visit', 'submitted', 'screening')",
            name=op.f("ck_mediation_case_source"),
        ),
        sa.CheckConstraint(
            "risk IN ('low', 'medium', 'high')", name=op.f("ck_mediation_case_risk")
        ),
        sa.CheckConstraint("risk_rank BETWEEN 1 AND 3", name=op.f("ck_mediation_case_risk_rank")),
        sa.CheckConstraint(
            "status IN ('new', 'accepted', 'concluded', 'closed')",
            name=op.f("ck_mediation_case_status"),
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('agreement', 'referred', 'withdrawn')",
            name=op.f("ck_mediation_case_outcome"),
        ),
        sa.CheckConstraint(
            "referral IS NULL OR referral IN ('court', 'arbitration', 'police')",
            name=op.f("ck_mediation_case_referral"),
        ),
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name=op.f("ck_mediation_case_amount")),
        sa.CheckConstraint(
            "status <> 'closed' OR (outcome IS NOT NULL AND closed_by_id IS NOT NULL "
            "AND closed_at IS NOT NULL)",
            name=op.f("ck_mediation_case_closed_complete"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('concluded', 'closed') OR outcome IS NOT NULL",
            name=op.f("ck_mediation_case_concluded_outcome"),
        ),
        sa.CheckConstraint(
            "outcome <> 'agreement' OR (terms IS NOT NULL AND followup_due IS NOT NULL)",
            name=op.f("ck_mediation_case_agreement_terms"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["organization.id"],
            name=op.f("fk_mediation_case_team_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["area.id"],
            name=op.f("fk_mediation_case_area_id_area"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
            name=op.f("fk_mediation_case_site_id_site"),
            ondelete="SET NULL",
        ),
        *[
            sa.ForeignKeyConstraint(
                [column],
                ["user.id"],
                name=op.f(f"fk_mediation_case_{column}_user"),
                ondelete="SET NULL",
            )
            for column in user_fk
        ],
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_case")),
        sa.UniqueConstraint("number", name=op.f("uq_mediation_case_number")),
    )
    op.create_index(
        "ix_mediation_case_area_status",
        "mediation_case",
        ["area_id", "status", "risk_rank"],
        unique=False,
    )
    op.create_index(
        "ix_mediation_case_team_status",
        "mediation_case",
        ["team_id", "status", "risk_rank"],
        unique=False,
    )
    op.create_index("ix_mediation_case_opened_at", "mediation_case", ["opened_at"], unique=False)
    op.create_index(
        op.f("ix_mediation_case_opened_by_id"), "mediation_case", ["opened_by_id"], unique=False
    )
    op.create_index(op.f("ix_mediation_case_site_id"), "mediation_case", ["site_id"], unique=False)
    op.create_table(
        "case_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=200), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("document_type", sa.String(length=24), nullable=True),
        sa.Column("id_number", sa.String(length=200), nullable=True),
        sa.Column("id_hash", sa.String(length=64), nullable=True),
        sa.Column("organization", sa.String(length=120), nullable=True),
        sa.CheckConstraint("role IN ('applicant', 'respondent')", name=op.f("ck_case_party_role")),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mediation_case.id"],
            name=op.f("fk_case_party_case_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_party")),
        sa.UniqueConstraint("case_id", "position", name=op.f("uq_case_party_case_id_position")),
    )
    op.create_index(op.f("ix_case_party_phone_hash"), "case_party", ["phone_hash"], unique=False)
    op.create_index(op.f("ix_case_party_id_hash"), "case_party", ["id_hash"], unique=False)
    op.create_table(
        "case_party_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["case_party.id"],
            name=op.f("fk_case_party_key_party_id_case_party"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mediation_case.id"],
            name=op.f("fk_case_party_key_case_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_party_key")),
    )
    op.create_index("ix_case_party_key_hash", "case_party_key", ["hash", "case_id"], unique=False)
    op.create_table(
        "case_mediator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("is_lead", sa.Boolean(), nullable=False),
        sa.Column("conflict", sa.String(length=300), nullable=True),
        sa.Column("confirm_reason", sa.String(length=255), nullable=True),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mediation_case.id"],
            name=op.f("fk_case_mediator_case_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_case_mediator_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"],
            ["user.id"],
            name=op.f("fk_case_mediator_assigned_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_mediator")),
        sa.UniqueConstraint("case_id", "user_id", name=op.f("uq_case_mediator_case_id_user_id")),
    )
    op.create_index(op.f("ix_case_mediator_user_id"), "case_mediator", ["user_id"], unique=False)
    op.create_index(
        "uq_case_mediator_one_lead",
        "case_mediator",
        ["case_id"],
        unique=True,
        sqlite_where=sa.text("is_lead"),
        postgresql_where=sa.text("is_lead"),
    )
    op.create_table(
        "mediation_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("mediator_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("booked_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('booked', 'held', 'cancelled')", name=op.f("ck_mediation_session_status")
        ),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_mediation_session_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mediation_case.id"],
            name=op.f("fk_mediation_session_case_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["mediation_room.id"],
            name=op.f("fk_mediation_session_room_id_mediation_room"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["mediator_id"],
            ["user.id"],
            name=op.f("fk_mediation_session_mediator_id_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["booked_by_id"],
            ["user.id"],
            name=op.f("fk_mediation_session_booked_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_session")),
    )
    op.create_index(
        op.f("ix_mediation_session_case_id"), "mediation_session", ["case_id"], unique=False
    )
    op.create_index(
        "ix_mediation_session_room_starts", "mediation_session", ["room_id", "starts_at"]
    )
    op.create_index(
        "ix_mediation_session_mediator_starts", "mediation_session", ["mediator_id", "starts_at"]
    )
    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["mediation_case.id"],
            name=op.f("fk_case_event_case_id_mediation_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user.id"],
            name=op.f("fk_case_event_actor_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event")),
    )
    op.create_index("ix_case_event_case_at", "case_event", ["case_id", "at"], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        for sql in SQLITE_TRIGGERS.values():
            op.execute(sql)
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for name, column in PG_EXCLUSIONS.items():
            op.execute(
                f"ALTER TABLE mediation_session ADD CONSTRAINT {name} EXCLUDE USING gist "
                f"({column} WITH =, tsrange(starts_at, ends_at) WITH &&) "
                "WHERE (status <> 'cancelled')"
            )


def downgrade():
    for table in (
        "case_event",
        "mediation_session",
        "case_mediator",
        "case_party_key",
        "case_party",
        "mediation_case",
        "mediation_room",
        "mediation_member",
    ):
        op.drop_table(table)
    _checks(upgrade=False)
