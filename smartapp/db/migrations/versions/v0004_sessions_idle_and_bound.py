"""The evaluation last shown in a session is encrypted; a pending launch knows its browser (0004).

`launch_sessions.last_evaluation` (plain JSON of patient data) becomes
`last_evaluation_encrypted`, Fernet ciphertext like the token set. The stored evaluations cannot
be encrypted here (a migration does not hold the app's key) and are only a copy of what the
EHR holds, so the upgrade drops them; the sessions themselves stay live. `pending_launches`
gains `browser_sha256`, the hash of the state cookie the launch set in the browser, so a
callback carrying another browser's cookie is refused (login CSRF). The downgrade drops both
(the evaluations again, as they are ciphertext).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("launch_sessions") as table:
        table.drop_column("last_evaluation")
        table.add_column(sa.Column("last_evaluation_encrypted", sa.Text(), nullable=True))
    with op.batch_alter_table("pending_launches") as table:
        table.add_column(sa.Column("browser_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pending_launches") as table:
        table.drop_column("browser_sha256")
    with op.batch_alter_table("launch_sessions") as table:
        table.drop_column("last_evaluation_encrypted")
        table.add_column(sa.Column("last_evaluation", sa.JSON(), nullable=True))
