"""Launch sessions: the launch's token set kept server-side, behind an opaque hashed handle.

The token set is stored as what `launch` returned (`launch.TokenSet`: tokens, scopes and every
piece of launch context the EHR sent, `fhirContext`, `intent` and `tenant` included), encrypted
whole, and so is the evaluation last shown; the issuer and client id stay plain, since
everything is scoped by them. A session ends at its lifetime (8 hours), when revoked (sign-out,
or the EHR's sign-in changing hands), or after the idle timeout without a request.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from launch import TokenSet
from smartapp.db.base import utc_now
from smartapp.db.crypto import SecretCipher
from smartapp.db.database import Database
from smartapp.db.models import LaunchSessionRow

DEFAULT_SESSION_LIFETIME = timedelta(hours=8)
DEFAULT_IDLE_TIMEOUT = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class LaunchSession:
    """A live session as callers see it: the token set in plaintext, never the ciphertext.

    `notice` is what the last POST of this session did, kept for the page it redirected to.
    """

    iss: str
    client_id: str
    tokens: TokenSet
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    refresh_version: int
    last_evaluation: dict[str, Any] | None
    notice: dict[str, Any] | None = None

    @property
    def patient(self) -> str | None:
        """The launch's patient id (launch context)."""
        return self.tokens.patient

    @property
    def fhir_user(self) -> str | None:
        """The signed-in user's FHIR reference (from the id_token), if the EHR said."""
        return self.tokens.fhir_user


def handle_hash(handle: str) -> str:
    """The stored key of a session: SHA-256 (hex) of the handle the browser holds."""
    return hashlib.sha256(handle.encode("utf-8")).hexdigest()


class LaunchSessions:
    """Create, read, refresh, revoke and purge launch sessions; token sets encrypted at rest."""

    def __init__(
        self,
        database: Database,
        cipher: SecretCipher,
        *,
        idle_timeout: timedelta = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        self._database = database
        self._cipher = cipher
        self._idle_timeout = idle_timeout

    def create(
        self,
        iss: str,
        client_id: str,
        tokens: TokenSet,
        *,
        lifetime: timedelta = DEFAULT_SESSION_LIFETIME,
        now: datetime | None = None,
    ) -> str:
        """Store a new session; returns its handle (256 random bits), which is stored only hashed."""
        now = now or utc_now()
        handle = secrets.token_urlsafe(32)
        row = LaunchSessionRow(
            handle_sha256=handle_hash(handle),
            iss=iss,
            client_id=client_id,
            token_set_encrypted=self._encrypt(tokens),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            revoked_at=None,
            refresh_version=0,
            last_evaluation_encrypted=None,
            notice=None,
        )
        with self._database.transaction() as session:
            session.add(row)
        return handle

    def get(
        self, handle: str, *, now: datetime | None = None, touch: bool = False
    ) -> LaunchSession | None:
        """The live session for a handle; None when unknown, expired, idle too long or revoked.

        With `touch` (a request of the user's), the session's idle time starts again from `now`,
        in the same transaction.
        """
        now = now or utc_now()
        with self._database.transaction() as session:
            if touch:
                session.execute(
                    update(LaunchSessionRow)
                    .where(*self._live(handle, now))
                    .values(last_seen_at=now)
                    .execution_options(synchronize_session=False)
                )
            row = session.execute(
                select(LaunchSessionRow).where(*self._live(handle, now))
            ).scalar_one_or_none()
            return None if row is None else self._session(row)

    def ended_cause(self, handle: str, *, now: datetime | None = None) -> str | None:
        """Why a handle names no live session (`unknown_handle`, `revoked`, `expired`,
        `idle_timeout`); None while it is live. For the log: never shown to the user."""
        now = now or utc_now()
        with self._database.transaction() as session:
            row = session.execute(
                select(LaunchSessionRow).where(
                    LaunchSessionRow.handle_sha256 == handle_hash(handle)
                )
            ).scalar_one_or_none()
            if row is None:
                return "unknown_handle"
            if row.revoked_at is not None:
                return "revoked"
            if row.expires_at <= now:
                return "expired"
            if row.last_seen_at <= now - self._idle_timeout:
                return "idle_timeout"
            return None

    def last_evaluation(self, handle: str, *, now: datetime | None = None) -> dict[str, Any] | None:
        """The evaluation last shown in a live session; None once the session has ended."""
        session = self.get(handle, now=now)
        return None if session is None else session.last_evaluation

    def store_refreshed_tokens(
        self,
        handle: str,
        expected_version: int,
        tokens: TokenSet,
        *,
        now: datetime | None = None,
    ) -> bool:
        """Replace the token set if the session is still at `expected_version`; False if not.

        Optimistic locking: read the session, refresh at the EHR, then store with the version
        read. A False means another worker refreshed first: read the session again and use its
        tokens.
        """
        now = now or utc_now()
        return self._update(
            handle,
            now,
            LaunchSessionRow.refresh_version == expected_version,
            token_set_encrypted=self._encrypt(tokens),
            refresh_version=expected_version + 1,
        )

    def record_evaluation(
        self,
        handle: str,
        evaluation_json: dict[str, Any],
        *,
        notice_shown: bool = False,
        now: datetime | None = None,
    ) -> bool:
        """Keep the evaluation last shown, encrypted (shown again beside an EHR error while the
        session lives), and count the request as use; with `notice_shown`, the
        notice the page displayed is cleared in the same statement."""
        now = now or utc_now()
        values: dict[str, Any] = {
            "last_evaluation_encrypted": self._cipher.encrypt(json.dumps(evaluation_json)),
            "last_seen_at": now,
        }
        if notice_shown:
            values["notice"] = None
        return self._update(handle, now, **values)

    def store_notice(
        self, handle: str, notice: dict[str, Any], *, now: datetime | None = None
    ) -> bool:
        """Keep what a POST did for the page its redirect shows (read with the session)."""
        return self._update(handle, now or utc_now(), notice=notice)

    def revoke(self, handle: str, *, now: datetime | None = None) -> bool:
        """End the session now (sign-out, or the EHR's sign-in changing hands); the evaluation
        last shown goes with it."""
        now = now or utc_now()
        return self._update(handle, now, revoked_at=now, last_evaluation_encrypted=None)

    def purge(self, *, now: datetime | None = None) -> int:
        """Delete expired, idle and revoked sessions; returns how many went."""
        now = now or utc_now()
        stale = or_(
            LaunchSessionRow.expires_at <= now,
            LaunchSessionRow.last_seen_at <= now - self._idle_timeout,
            LaunchSessionRow.revoked_at.is_not(None),
        )
        with self._database.transaction() as session:
            return int(session.execute(delete(LaunchSessionRow).where(stale)).rowcount)  # type: ignore[attr-defined]

    def _update(self, handle: str, now: datetime, *conditions: Any, **values: Any) -> bool:
        statement = (
            update(LaunchSessionRow)
            .where(*self._live(handle, now), *conditions)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        with self._database.transaction() as session:
            return bool(session.execute(statement).rowcount == 1)  # type: ignore[attr-defined]

    def _encrypt(self, tokens: TokenSet) -> str:
        return self._cipher.encrypt(json.dumps(tokens.as_dict()))

    def _live(self, handle: str, now: datetime) -> tuple[Any, ...]:
        return (
            LaunchSessionRow.handle_sha256 == handle_hash(handle),
            LaunchSessionRow.expires_at > now,
            LaunchSessionRow.last_seen_at > now - self._idle_timeout,
            LaunchSessionRow.revoked_at.is_(None),
        )

    def _session(self, row: LaunchSessionRow) -> LaunchSession:
        tokens = TokenSet.from_dict(json.loads(self._cipher.decrypt(row.token_set_encrypted)))
        evaluation = row.last_evaluation_encrypted
        return LaunchSession(
            iss=row.iss,
            client_id=row.client_id,
            tokens=tokens,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
            refresh_version=row.refresh_version,
            last_evaluation=(
                None if evaluation is None else json.loads(self._cipher.decrypt(evaluation))
            ),
            notice=row.notice,
        )
