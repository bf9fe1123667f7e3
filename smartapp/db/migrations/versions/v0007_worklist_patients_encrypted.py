"""A stored worklist patient's name, MRN, phone and evaluation encrypted whole (0007).

`worklist_patients` keeps what identifies the patient and what was found (the name, MRN, phone
and evaluation JSON) as one Fernet ciphertext (`phi_encrypted`) with the app's token key, as the
launch sessions keep their tokens; the cells the page filters and orders by in the database
(status, prescriber, next due, days overdue, completeness) stay plain.

The old rows cannot be carried over: a migration does not hold the app's key. Stored runs are
remade by the next scheduled `smartapp worklist fetch` (and kept only for the retention period
anyway), so the upgrade deletes the runs; the downgrade does the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLAIN_COLUMNS = (
    ("name", sa.String()),
    ("mrn", sa.String()),
    ("phone", sa.String()),
    ("evaluation", sa.Text()),
)


def _delete_runs() -> None:
    op.execute(sa.text("DELETE FROM worklist_patients"))
    op.execute(sa.text("DELETE FROM worklist_runs"))


def upgrade() -> None:
    _delete_runs()
    with op.batch_alter_table("worklist_patients") as table:
        for name, _ in PLAIN_COLUMNS:
            table.drop_column(name)
        table.add_column(sa.Column("phi_encrypted", sa.Text(), nullable=False))


def downgrade() -> None:
    _delete_runs()
    with op.batch_alter_table("worklist_patients") as table:
        table.drop_column("phi_encrypted")
        for name, kind in PLAIN_COLUMNS:
            table.add_column(sa.Column(name, kind, nullable=False))
