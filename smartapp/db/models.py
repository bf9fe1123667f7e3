"""Tables of the launch flow, signing keys, the write-back ledger and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartapp.db.base import Base

LEDGER_STATUSES = ("pending", "written", "failed", "inactive", "completed")


class PendingLaunchRow(Base):
    """An authorize redirect in flight, keyed by state: the `launch.PendingLaunch` itself (its
    PKCE verifier and nonce among the rest) as Fernet ciphertext of its JSON.

    Single use: the callback consumes it with `UPDATE ... WHERE consumed_at IS NULL`.
    `browser_sha256` is the SHA-256 of the state cookie the launch set in the browser (login
    CSRF: a callback arriving with another browser's cookie is refused).
    """

    __tablename__ = "pending_launches"
    __table_args__ = (Index("ix_pending_launches_expires_at", "expires_at"),)

    state: Mapped[str] = mapped_column(primary_key=True)
    iss: Mapped[str]
    pending_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]
    browser_sha256: Mapped[str | None] = mapped_column(String(64))


class LaunchSessionRow(Base):
    """A launch's server-side session; the browser holds only the handle whose hash is the key.

    The token set is the `launch.TokenSet` the launch returned (tokens, scopes and every piece
    of launch context the EHR sent), as Fernet ciphertext of its JSON. `refresh_version` grows
    by one per stored refresh, so two workers refreshing at once cannot both win
    (compare-and-set on the version). `notice` holds what the last POST did (write-back
    outcomes, lifecycle changes) until the page it redirected to has shown it. The evaluation
    last shown is patient data: Fernet ciphertext of its JSON, as the tokens are. A session
    is live until `expires_at`, until it is revoked, and while `last_seen_at` is within the
    idle timeout.
    """

    __tablename__ = "launch_sessions"
    __table_args__ = (Index("ix_launch_sessions_expires_at", "expires_at"),)

    handle_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    iss: Mapped[str]
    client_id: Mapped[str]
    token_set_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    refresh_version: Mapped[int]
    last_evaluation_encrypted: Mapped[str | None] = mapped_column(Text)
    notice: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SigningKeyRow(Base):
    """One of the app's private_key_jwt signing keys; the private JWK is Fernet ciphertext."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(primary_key=True)
    alg: Mapped[str]
    private_jwk_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class WritebackEntryRow(Base):
    """What the app wrote (or is writing) to which EHR, so a retry or a double click never duplicates.

    The identifier is the one put on the Flag/Task; the unique constraint makes concurrent
    identical writes collide, so exactly one writer goes on to the EHR.
    """

    __tablename__ = "writeback_ledger"
    __table_args__ = (
        UniqueConstraint("iss", "identifier_system", "identifier_value"),
        Index("ix_writeback_ledger_iss_patient", "iss", "patient"),
        CheckConstraint(
            "status IN ({})".format(", ".join(f"'{s}'" for s in LEDGER_STATUSES)), name="status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    iss: Mapped[str]
    patient: Mapped[str]
    finding_code: Mapped[str]
    period_key: Mapped[str]
    identifier_system: Mapped[str]
    identifier_value: Mapped[str]
    resource_type: Mapped[str]
    resource_id: Mapped[str | None]
    status: Mapped[str]
    attempts: Mapped[int]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AuditEventRow(Base):
    """Who did what to which record at which EHR, with before and after; references only, never
    tokens or PHI. Each EHR's administrators read only their EHR's events."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_target", "target"),
        Index("ix_audit_events_iss_at", "iss", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str]
    iss: Mapped[str]
    action: Mapped[str]
    target: Mapped[str]
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    request_id: Mapped[str | None]
