"""Pending launches: the `launch.PendingLaunch` of an authorize redirect, kept until used once.

It holds the PKCE verifier (with it, an intercepted code becomes a token) and the nonce, so the
whole pending launch is stored as Fernet ciphertext of its JSON, as the session's token set is;
only the state (the key), the issuer, the times and the hash of the browser's state cookie are
plain columns.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from launch import PendingLaunch
from smartapp.db.base import utc_now
from smartapp.db.crypto import SecretCipher, SecretKeyError
from smartapp.db.database import Database
from smartapp.db.models import PendingLaunchRow

# SMART leaves the lifetime to the app; ten minutes covers a slow login at the EHR.
DEFAULT_PENDING_LAUNCH_LIFETIME = timedelta(minutes=10)


class AnotherBrowser(Exception):
    """The callback came with a state cookie other than the one its launch set (login CSRF)."""


def _browser_hash(browser: str) -> str:
    return hashlib.sha256(browser.encode("utf-8")).hexdigest()


class PendingLaunches:
    """Save a pending launch at the redirect, consume it once at the callback."""

    def __init__(self, database: Database, cipher: SecretCipher) -> None:
        self._database = database
        self._cipher = cipher

    def save(
        self,
        pending: PendingLaunch,
        *,
        browser: str | None = None,
        lifetime: timedelta = DEFAULT_PENDING_LAUNCH_LIFETIME,
    ) -> None:
        """Store it until its `created_at + lifetime`, bound to the browser's state cookie
        `browser` (kept hashed); a state in use raises IntegrityError."""
        with self._database.transaction() as session:
            session.add(
                PendingLaunchRow(
                    state=pending.state,
                    iss=pending.iss,
                    pending_encrypted=self._cipher.encrypt(json.dumps(pending.as_dict())),
                    created_at=pending.created_at,
                    expires_at=pending.created_at + lifetime,
                    consumed_at=None,
                    browser_sha256=None if browser is None else _browser_hash(browser),
                )
            )

    def consume(
        self, state: str, *, browser: str | None = None, now: datetime | None = None
    ) -> PendingLaunch | None:
        """The pending launch for `state`, exactly once; None when unknown, used or expired, or
        when no configured key opens it (the user opens the app again).

        `browser` is the state cookie the callback came with: when the launch was bound to
        another, AnotherBrowser is raised (and the state is used up). Without a cookie (an
        embedded browser that drops them) the state alone decides.

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
            bound, encrypted = row.browser_sha256, row.pending_encrypted
        # Checked once the state is used up, so a refused callback cannot be replayed either.
        if browser is not None and bound is not None:
            if not hmac.compare_digest(bound, _browser_hash(browser)):
                raise AnotherBrowser
        try:
            stored = json.loads(self._cipher.decrypt(encrypted))
        except SecretKeyError:
            return None
        return PendingLaunch.from_dict(stored)

    def purge(self, *, now: datetime | None = None) -> int:
        """Delete every pending launch past its expiry, used or not; returns how many went."""
        now = now or utc_now()
        with self._database.transaction() as session:
            result = session.execute(
                delete(PendingLaunchRow).where(PendingLaunchRow.expires_at <= now)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]
