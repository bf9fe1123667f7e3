"""The CDS Hooks service's tables: JWT ids seen, and the cards answered (0005)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def _required(name: str, kind: sa.types.TypeEngine[Any]) -> sa.Column[Any]:
    return sa.Column(name, kind, nullable=False)


def upgrade() -> None:
    op.create_table(
        "cds_jwt_ids",
        _required("iss", sa.String()),
        _required("jti", sa.String(200)),
        _required("expires_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("iss", "jti", name=op.f("pk_cds_jwt_ids")),
    )
    op.create_index("ix_cds_jwt_ids_expires_at", "cds_jwt_ids", ["expires_at"])
    op.create_table(
        "cds_cards",
        _required("uuid", sa.String(36)),
        _required("iss", sa.String()),
        _required("service", sa.String()),
        _required("patient", sa.String()),
        sa.Column("user", sa.String(), nullable=True),
        _required("findings", sa.JSON()),
        _required("issued_at", TIMESTAMP),
        sa.Column("overridden_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_cds_cards")),
    )
    op.create_index("ix_cds_cards_iss_patient", "cds_cards", ["iss", "patient"])


def downgrade() -> None:
    op.drop_index("ix_cds_cards_iss_patient", table_name="cds_cards")
    op.drop_table("cds_cards")
    op.drop_index("ix_cds_jwt_ids_expires_at", table_name="cds_jwt_ids")
    op.drop_table("cds_jwt_ids")
