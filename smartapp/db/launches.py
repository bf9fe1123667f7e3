"""Pending launches: the state, PKCE verifier and nonce of an authorize redirect, used once.

The verifier is the one secret here (with it, an intercepted code becomes a token): it is stored
as Fernet ciphertext, as the session tokens are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from smartapp.db.base import utc_now
from smartapp.db.crypto import SecretCipher, SecretKeyError
from smartapp.db.database import Database
from smartapp.db.models import PendingLaunchRow

# SMART leaves the lifetime to the app; ten minutes covers a slow login at the EHR.
DEFAULT_PENDING_LAUNCH_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class PendingLaunch:
    """What the callback needs from its authorize redirect.

    `scope` is what was asked for (used when the token response leaves `scope` out);
    `created_at` is set by the store (`consume` returns it).
    """

    state: str = field(repr=False)
    iss: str
    code_verifier: str = field(repr=False)
    redirect_uri: str
    nonce: str | None = field(default=None, repr=False)
    launch: str | None = None
    scope: str | None = None
    created_at: datetime | None = None


class PendingLaunches:
    """Save a pending launch at the redirect, consume it once at the callback."""

    def __init__(self, database: Database, cipher: SecretCipher) -> None:
        self._database = database
        self._cipher = cipher

    def save(
        self,
        pending: PendingLaunch,
        *,
        lifetime: timedelta = DEFAULT_PENDING_LAUNCH_LIFETIME,
        now: datetime | None = None,
    ) -> None:
        """Store it until `now + lifetime`; a state already in use raises IntegrityError."""
        now = now or pending.created_at or utc_now()
        with self._database.transaction() as session:
            session.add(
                PendingLaunchRow(
                    state=pending.state,
                    iss=pending.iss,
                    code_verifier=self._cipher.encrypt(pending.code_verifier),
                    nonce=pending.nonce,
                    redirect_uri=pending.redirect_uri,
                    launch=pending.launch,
                    scope=pending.scope,
                    created_at=now,
                    expires_at=now + lifetime,
                    consumed_at=None,
                )
            )

    def consume(self, state: str, *, now: datetime | None = None) -> PendingLaunch | None:
        """The pending launch for `state`, exactly once; None when unknown, used or expired, or
        when no configured key opens its verifier (the user opens the app again).

        The conditional UPDATE is the lock: of two callbacks racing on one state, only the one
        whose UPDATE matched a row (rowcount 1) gets the verifier.
        """
        now = now or utc_now()
        claim = (
            update(PendingLaunchRow)
            .where(
                PendingLaunchRow.state == state,
                PendingLaunchRow.consumed_at.is_(None),
                PendingLaunchRow.expires_at > now,
            )
            .values(consumed_at=now)
            .execution_options(synchronize_session=False)
        )
        with self._database.transaction() as session:
            if session.execute(claim).rowcount != 1:  # type: ignore[attr-defined]
                return None
            row = session.execute(
                select(PendingLaunchRow).where(PendingLaunchRow.state == state)
            ).scalar_one()
            try:
                verifier = self._cipher.decrypt(row.code_verifier)
            except SecretKeyError:
                return None
            return PendingLaunch(
                state=row.state,
                iss=row.iss,
                code_verifier=verifier,
                redirect_uri=row.redirect_uri,
                nonce=row.nonce,
                launch=row.launch,
                scope=row.scope,
                created_at=row.created_at,
            )

    def purge(self, *, now: datetime | None = None) -> int:
        """Delete every pending launch past its expiry, used or not; returns how many went."""
        now = now or utc_now()
        with self._database.transaction() as session:
            result = session.execute(
                delete(PendingLaunchRow).where(PendingLaunchRow.expires_at <= now)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]
