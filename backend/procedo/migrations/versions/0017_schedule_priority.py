"""D5: the order of scheduled workflows, and each scheduled run as a record

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 19:00:00

``flow_schedules.position``: the tenant's priority order (existing schedules numbered by
flow name). ``schedule_runs`` and ``schedule_run_subjects``: what a run selected, acted
on and skipped, and why. ``schedule_acts``: the key per workflow, customer and slot that
makes a repeated run act on nobody twice (db/schedule_runs.py). The new tables get
0003's tenant policy.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from procedo.db.models import UtcDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TABLES = ("schedule_runs", "schedule_run_subjects", "schedule_acts")
_SETTING = "current_setting('procedo.tenant', true)"
_VISIBLE = (
    f"(coalesce({_SETTING}, '*') = '*' OR tenant_id = "
    f"CASE WHEN {_SETTING} ~ '^[0-9a-fA-F-]{{36}}$' THEN {_SETTING}::uuid END)"
)
_GRANT = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'procedo_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE
      ON schedule_runs, schedule_run_subjects, schedule_acts TO procedo_app;
  END IF;
END $$
"""


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    with op.batch_alter_table("flow_schedules") as batch_op:
        batch_op.add_column(sa.Column("position", sa.Integer(), server_default="0", nullable=False))
    _number_existing()
    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("slot_at", UtcDateTime(), nullable=False),
        sa.Column("ran_at", UtcDateTime(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("selected", sa.Integer(), nullable=False),
        sa.Column("acted", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        _fk("schedule_runs", "tenant_id", "tenants"),
        _fk("schedule_runs", "flow_id", "flows"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_runs")),
    )
    op.create_index(op.f("ix_schedule_runs_tenant_id"), "schedule_runs", ["tenant_id"])
    op.create_index("ix_schedule_runs_flow_ran", "schedule_runs", ["flow_id", "ran_at"])
    op.create_table(
        "schedule_run_subjects",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("by_flow", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=True),
        _fk("schedule_run_subjects", "run_id", "schedule_runs"),
        _fk("schedule_run_subjects", "subject_id", "subjects"),
        sa.PrimaryKeyConstraint("run_id", "subject_id", name=op.f("pk_schedule_run_subjects")),
    )
    op.create_table(
        "schedule_acts",
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("slot_at", UtcDateTime(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("instance_id", sa.Uuid(), nullable=True),
        _fk("schedule_acts", "subject_id", "subjects"),
        _fk("schedule_acts", "run_id", "schedule_runs"),
        sa.PrimaryKeyConstraint("flow_id", "subject_id", "slot_at", name=op.f("pk_schedule_acts")),
    )
    op.create_index(
        "ix_schedule_acts_slot", "schedule_acts", ["tenant_id", "slot_at", "subject_id"]
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY tenant_isolation ON {table} USING {_VISIBLE} WITH CHECK {_VISIBLE}"
            )
        op.execute(_GRANT)


def _number_existing() -> None:
    """Existing schedules in each tenant: 1, 2, 3 ... by their flow's name."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT s.flow_version_id, s.tenant_id FROM flow_schedules s"
            " JOIN flow_versions v ON v.id = s.flow_version_id"
            " JOIN flows f ON f.id = v.flow_id ORDER BY s.tenant_id, f.name, f.key"
        )
    ).all()
    counts: dict[object, int] = {}
    for version_id, tenant_id in rows:
        counts[tenant_id] = counts.get(tenant_id, 0) + 1
        bind.execute(
            sa.text("UPDATE flow_schedules SET position = :p WHERE flow_version_id = :v"),
            {"p": counts[tenant_id], "v": version_id},
        )


def downgrade() -> None:
    op.drop_index("ix_schedule_acts_slot", table_name="schedule_acts")
    op.drop_table("schedule_acts")
    op.drop_table("schedule_run_subjects")
    op.drop_index("ix_schedule_runs_flow_ran", table_name="schedule_runs")
    op.drop_index(op.f("ix_schedule_runs_tenant_id"), table_name="schedule_runs")
    op.drop_table("schedule_runs")
    with op.batch_alter_table("flow_schedules") as batch_op:
        batch_op.drop_column("position")
