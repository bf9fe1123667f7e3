"""Sessions and pending launches store what `launch` returns, encrypted whole; a notice (0002).

`launch_sessions` keeps the `launch.TokenSet` as one Fernet ciphertext (`token_set_encrypted`)
instead of copying some of its fields into columns, so nothing the EHR sent (`fhirContext`,
`intent`, `tenant`, the id_token's claims) is dropped, and gains `notice` (what the last POST
did, for the page its redirect shows). `pending_launches` keeps the `launch.PendingLaunch` the
same way (`pending_encrypted`).

The old rows cannot be carried over: their tokens were encrypted field by field with the app's
key, which a migration does not hold. Both tables hold only short-lived state (a pending launch
lives ten minutes, a session eight hours), so the upgrade deletes their rows and the users open
the app again from the chart; the downgrade does the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_SESSION_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any], bool], ...] = (
    ("access_token_encrypted", sa.Text(), False),
    ("refresh_token_encrypted", sa.Text(), True),
    ("token_expires_at", sa.DateTime(timezone=True), True),
    ("scopes", sa.Text(), False),
    ("patient", sa.String(), True),
    ("encounter", sa.String(), True),
    ("fhir_user", sa.String(), True),
    ("need_patient_banner", sa.Boolean(), False),
    ("smart_style_url", sa.String(), True),
)
OLD_PENDING_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any], bool], ...] = (
    ("code_verifier", sa.String(), False),
    ("nonce", sa.String(), True),
    ("redirect_uri", sa.String(), False),
    ("launch", sa.String(), True),
    ("scope", sa.Text(), True),
)


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM launch_sessions"))
    op.execute(sa.text("DELETE FROM pending_launches"))
    with op.batch_alter_table("launch_sessions") as table:
        for name, _, _ in OLD_SESSION_COLUMNS:
            table.drop_column(name)
        table.add_column(sa.Column("token_set_encrypted", sa.Text(), nullable=False))
        table.add_column(sa.Column("notice", sa.JSON(), nullable=True))
    with op.batch_alter_table("pending_launches") as table:
        for name, _, _ in OLD_PENDING_COLUMNS:
            table.drop_column(name)
        table.add_column(sa.Column("pending_encrypted", sa.Text(), nullable=False))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM launch_sessions"))
    op.execute(sa.text("DELETE FROM pending_launches"))
    with op.batch_alter_table("pending_launches") as table:
        table.drop_column("pending_encrypted")
        for name, kind, nullable in OLD_PENDING_COLUMNS:
            table.add_column(sa.Column(name, kind, nullable=nullable))
    with op.batch_alter_table("launch_sessions") as table:
        table.drop_column("notice")
        table.drop_column("token_set_encrypted")
        for name, kind, nullable in OLD_SESSION_COLUMNS:
            table.add_column(sa.Column(name, kind, nullable=nullable))
