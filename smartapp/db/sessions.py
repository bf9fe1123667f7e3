"""Launch sessions: tokens and launch context kept server-side, behind an opaque hashed handle."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from smartapp.db.base import utc_now
from smartapp.db.crypto import SecretCipher
from smartapp.db.database import Database
from smartapp.db.models import LaunchSessionRow

DEFAULT_SESSION_LIFETIME = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """What the token response and launch context gave: the session's tokens and context."""

    iss: str
    client_id: str
    access_token: str
    scopes: str
    refresh_token: str | None = None
    token_expires_at: datetime | None = None
    patient: str | None = None
    encounter: str | None = None
    fhir_user: str | None = None
    need_patient_banner: bool = False
    smart_style_url: str | None = None


@dataclass(frozen=True, slots=True)
class LaunchSession:
    """A live session as callers see it: plaintext tokens, never the stored ciphertext."""

    grant: SessionGrant
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    refresh_version: int
    last_evaluation: dict[str, Any] | None


def handle_hash(handle: str) -> str:
    """The stored key of a session: SHA-256 (hex) of the handle the browser holds."""
    return hashlib.sha256(handle.encode("utf-8")).hexdigest()


class LaunchSessions:
    """Create, read, refresh, revoke and purge launch sessions; tokens encrypted at rest."""

    def __init__(self, database: Database, cipher: SecretCipher) -> None:
        self._database = database
        self._cipher = cipher

    def create(
        self,
        grant: SessionGrant,
        *,
        lifetime: timedelta = DEFAULT_SESSION_LIFETIME,
        now: datetime | None = None,
    ) -> str:
        """Store a new session; returns its handle (256 random bits), which is stored only hashed."""
        now = now or utc_now()
        handle = secrets.token_urlsafe(32)
        row = LaunchSessionRow(
            handle_sha256=handle_hash(handle),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            revoked_at=None,
            refresh_version=0,
            last_evaluation=None,
            **self._grant_columns(grant),
        )
        with self._database.transaction() as session:
            session.add(row)
        return handle

    def get(self, handle: str, *, now: datetime | None = None) -> LaunchSession | None:
        """The live session for a handle; None when unknown, expired or revoked."""
        now = now or utc_now()
        with self._database.transaction() as session:
            row = session.execute(
                select(LaunchSessionRow).where(*_live(handle, now))
            ).scalar_one_or_none()
            return None if row is None else self._session(row)

    def last_evaluation(self, handle: str) -> dict[str, Any] | None:
        """The evaluation last shown in a session, live or ended (for the "open again" page)."""
        with self._database.transaction() as session:
            row = session.execute(
                select(LaunchSessionRow).where(
                    LaunchSessionRow.handle_sha256 == handle_hash(handle)
                )
            ).scalar_one_or_none()
            return None if row is None else row.last_evaluation

    def touch(self, handle: str, *, now: datetime | None = None) -> bool:
        """Record that the session was used now; False when it is no longer live."""
        now = now or utc_now()
        return self._update(handle, now, last_seen_at=now)

    def store_refreshed_tokens(
        self,
        handle: str,
        expected_version: int,
        grant: SessionGrant,
        *,
        now: datetime | None = None,
    ) -> bool:
        """Replace the tokens if the session is still at `expected_version`; False if not.

        Optimistic locking: read the session, refresh at the EHR, then store with the version
        read. A False means another worker refreshed first: read the session again and use its
        tokens. Only the token fields of `grant` (and its scopes) are stored.
        """
        now = now or utc_now()
        return self._update(
            handle,
            now,
            LaunchSessionRow.refresh_version == expected_version,
            access_token_encrypted=self._cipher.encrypt(grant.access_token),
            refresh_token_encrypted=self._encrypt_optional(grant.refresh_token),
            token_expires_at=grant.token_expires_at,
            scopes=grant.scopes,
            refresh_version=expected_version + 1,
        )

    def record_evaluation(
        self, handle: str, evaluation_json: dict[str, Any], *, now: datetime | None = None
    ) -> bool:
        """Keep the evaluation last shown, so a write-back acts on what the prescriber saw."""
        return self._update(handle, now or utc_now(), last_evaluation=evaluation_json)

    def revoke(self, handle: str, *, now: datetime | None = None) -> bool:
        """End the session now (logout, or a token the EHR revoked)."""
        now = now or utc_now()
        return self._update(handle, now, revoked_at=now)

    def purge(self, *, now: datetime | None = None) -> int:
        """Delete expired and revoked sessions; returns how many went."""
        now = now or utc_now()
        stale = or_(LaunchSessionRow.expires_at <= now, LaunchSessionRow.revoked_at.is_not(None))
        with self._database.transaction() as session:
            return int(session.execute(delete(LaunchSessionRow).where(stale)).rowcount)  # type: ignore[attr-defined]

    def _update(self, handle: str, now: datetime, *conditions: Any, **values: Any) -> bool:
        statement = (
            update(LaunchSessionRow)
            .where(*_live(handle, now), *conditions)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        with self._database.transaction() as session:
            return bool(session.execute(statement).rowcount == 1)  # type: ignore[attr-defined]

    def _grant_columns(self, grant: SessionGrant) -> dict[str, Any]:
        return {
            "iss": grant.iss,
            "client_id": grant.client_id,
            "access_token_encrypted": self._cipher.encrypt(grant.access_token),
            "refresh_token_encrypted": self._encrypt_optional(grant.refresh_token),
            "token_expires_at": grant.token_expires_at,
            "scopes": grant.scopes,
            "patient": grant.patient,
            "encounter": grant.encounter,
            "fhir_user": grant.fhir_user,
            "need_patient_banner": grant.need_patient_banner,
            "smart_style_url": grant.smart_style_url,
        }

    def _encrypt_optional(self, token: str | None) -> str | None:
        return None if token is None else self._cipher.encrypt(token)

    def _session(self, row: LaunchSessionRow) -> LaunchSession:
        refresh = row.refresh_token_encrypted
        grant = SessionGrant(
            iss=row.iss,
            client_id=row.client_id,
            access_token=self._cipher.decrypt(row.access_token_encrypted),
            scopes=row.scopes,
            refresh_token=None if refresh is None else self._cipher.decrypt(refresh),
            token_expires_at=row.token_expires_at,
            patient=row.patient,
            encounter=row.encounter,
            fhir_user=row.fhir_user,
            need_patient_banner=row.need_patient_banner,
            smart_style_url=row.smart_style_url,
        )
        return LaunchSession(
            grant=grant,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
            refresh_version=row.refresh_version,
            last_evaluation=row.last_evaluation,
        )


def _live(handle: str, now: datetime) -> tuple[Any, ...]:
    return (
        LaunchSessionRow.handle_sha256 == handle_hash(handle),
        LaunchSessionRow.expires_at > now,
        LaunchSessionRow.revoked_at.is_(None),
    )
