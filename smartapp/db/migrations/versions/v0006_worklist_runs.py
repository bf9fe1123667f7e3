"""Stored worklist runs (0006): `worklist_runs` and the patients evaluated in each.

A run of `smartapp worklist fetch` is kept whole, per EHR, so the worklist shows the last run at
once on any instance; `smartapp db purge` deletes runs older than the worklist retention.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "worklist_runs",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("iss", sa.String(), nullable=False),
        sa.Column("group_id", sa.String(), nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=False),
        sa.Column("export_time", sa.String(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("policy", sa.String(), nullable=False),
        sa.Column("patients", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worklist_runs")),
    )
    op.create_index("ix_worklist_runs_iss_finished_at", "worklist_runs", ["iss", "finished_at"])
    op.create_table(
        "worklist_patients",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("iss", sa.String(), nullable=False),
        sa.Column("patient", sa.String(), nullable=False),
        sa.Column("overall", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("mrn", sa.String(), nullable=False),
        sa.Column("phone", sa.String(), nullable=False),
        sa.Column("prescriber", sa.String(), nullable=False),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.Column("days_overdue", sa.Integer(), nullable=True),
        sa.Column("data_complete", sa.Boolean(), nullable=False),
        sa.Column("evaluation", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["worklist_runs.id"],
            name=op.f("fk_worklist_patients_run_id_worklist_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "position", name=op.f("pk_worklist_patients")),
    )
    op.create_index("ix_worklist_patients_iss_patient", "worklist_patients", ["iss", "patient"])


def downgrade() -> None:
    op.drop_index("ix_worklist_patients_iss_patient", table_name="worklist_patients")
    op.drop_table("worklist_patients")
    op.drop_index("ix_worklist_runs_iss_finished_at", table_name="worklist_runs")
    op.drop_table("worklist_runs")
