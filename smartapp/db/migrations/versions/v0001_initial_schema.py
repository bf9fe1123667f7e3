"""Initial schema: launch flow, sessions, signing keys, program registry, ledger, audit (0001)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written by hand after an autogenerate and kept frozen: later model changes get new revisions.
TIMESTAMP = sa.DateTime(timezone=True)
TABLES = (
    "audit_events",
    "writeback_ledger",
    "status_forms",
    "patient_enrollments",
    "pharmacies",
    "prescribers",
    "signing_keys",
    "launch_sessions",
    "pending_launches",
)


def _required(name: str, kind: sa.types.TypeEngine[Any]) -> sa.Column[Any]:
    return sa.Column(name, kind, nullable=False)


def _optional(name: str, kind: sa.types.TypeEngine[Any]) -> sa.Column[Any]:
    return sa.Column(name, kind, nullable=True)


def _status_check(table: str, statuses: Sequence[str]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{status}'" for status in statuses)
    return sa.CheckConstraint(f"status IN ({allowed})", name=op.f(f"ck_{table}_status"))


def _launch_tables() -> None:
    op.create_table(
        "pending_launches",
        _required("state", sa.String()),
        _required("iss", sa.String()),
        _required("code_verifier", sa.String()),
        _optional("nonce", sa.String()),
        _required("redirect_uri", sa.String()),
        _optional("launch", sa.String()),
        _optional("scope", sa.Text()),
        _required("created_at", TIMESTAMP),
        _required("expires_at", TIMESTAMP),
        _optional("consumed_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_pending_launches")),
    )
    op.create_index("ix_pending_launches_expires_at", "pending_launches", ["expires_at"])
    op.create_table(
        "launch_sessions",
        _required("handle_sha256", sa.String(length=64)),
        _required("iss", sa.String()),
        _required("client_id", sa.String()),
        _required("access_token_encrypted", sa.Text()),
        _optional("refresh_token_encrypted", sa.Text()),
        _optional("token_expires_at", TIMESTAMP),
        _required("scopes", sa.Text()),
        _optional("patient", sa.String()),
        _optional("encounter", sa.String()),
        _optional("fhir_user", sa.String()),
        _required("need_patient_banner", sa.Boolean()),
        _optional("smart_style_url", sa.String()),
        _required("created_at", TIMESTAMP),
        _required("last_seen_at", TIMESTAMP),
        _required("expires_at", TIMESTAMP),
        _optional("revoked_at", TIMESTAMP),
        _required("refresh_version", sa.Integer()),
        _optional("last_evaluation", sa.JSON()),
        sa.PrimaryKeyConstraint("handle_sha256", name=op.f("pk_launch_sessions")),
    )
    op.create_index("ix_launch_sessions_expires_at", "launch_sessions", ["expires_at"])
    op.create_table(
        "signing_keys",
        _required("kid", sa.String()),
        _required("alg", sa.String()),
        _required("private_jwk_encrypted", sa.Text()),
        _required("created_at", TIMESTAMP),
        _optional("retired_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_keys")),
    )


def _certification_table(table: str, reference: str, name: str) -> None:
    op.create_table(
        table,
        _required("id", sa.Integer()),
        _required(reference, sa.String()),
        _optional(name, sa.String()),
        _required("certified_on", sa.Date()),
        _optional("expires_on", sa.Date()),
        _required("updated_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(reference, name=op.f(f"uq_{table}_{reference}")),
    )


def _registry_tables() -> None:
    _certification_table("prescribers", "practitioner_reference", "display_name")
    _certification_table("pharmacies", "organization_reference", "name")
    op.create_table(
        "patient_enrollments",
        _required("id", sa.Integer()),
        _required("patient_reference", sa.String()),
        _required("enrolled_on", sa.Date()),
        _optional("prescriber_reference", sa.String()),
        _required("status", sa.String()),
        _optional("expires_on", sa.Date()),
        _required("updated_at", TIMESTAMP),
        _status_check("patient_enrollments", ("active", "interrupted", "discontinued")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_enrollments")),
        sa.UniqueConstraint(
            "patient_reference",
            "enrolled_on",
            name=op.f("uq_patient_enrollments_patient_reference_enrolled_on"),
        ),
    )
    op.create_table(
        "status_forms",
        _required("id", sa.Integer()),
        _required("patient_reference", sa.String()),
        _required("submitted_on", sa.Date()),
        _optional("anc_reported_per_ul", sa.Integer()),
        _required("updated_at", TIMESTAMP),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_forms")),
        sa.UniqueConstraint(
            "patient_reference",
            "submitted_on",
            name=op.f("uq_status_forms_patient_reference_submitted_on"),
        ),
    )


def _ledger_and_audit_tables() -> None:
    op.create_table(
        "writeback_ledger",
        _required("id", sa.Integer()),
        _required("iss", sa.String()),
        _required("patient", sa.String()),
        _required("finding_code", sa.String()),
        _required("period_key", sa.String()),
        _required("identifier_system", sa.String()),
        _required("identifier_value", sa.String()),
        _required("resource_type", sa.String()),
        _optional("resource_id", sa.String()),
        _required("status", sa.String()),
        _required("attempts", sa.Integer()),
        _required("created_at", TIMESTAMP),
        _required("updated_at", TIMESTAMP),
        _status_check(
            "writeback_ledger", ("pending", "written", "failed", "inactive", "completed")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writeback_ledger")),
        sa.UniqueConstraint(
            "iss",
            "identifier_system",
            "identifier_value",
            name=op.f("uq_writeback_ledger_iss_identifier_system_identifier_value"),
        ),
    )
    op.create_index("ix_writeback_ledger_iss_patient", "writeback_ledger", ["iss", "patient"])
    op.create_table(
        "audit_events",
        _required("id", sa.Integer()),
        _required("at", TIMESTAMP),
        _required("actor", sa.String()),
        _optional("iss", sa.String()),
        _required("action", sa.String()),
        _required("target", sa.String()),
        _optional("before", sa.JSON()),
        _optional("after", sa.JSON()),
        _optional("request_id", sa.String()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_target", "audit_events", ["target"])


def upgrade() -> None:
    """Create every table, with its constraints and indexes."""
    _launch_tables()
    _registry_tables()
    _ledger_and_audit_tables()


def downgrade() -> None:
    """Drop every table (and so its indexes)."""
    for table in TABLES:
        op.drop_table(table)
