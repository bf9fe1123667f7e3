"""FHIR access for one launch session: fresh tokens, refreshed ahead of expiry, one at a time.

Tokens are refreshed a minute before they expire (a token this access has just obtained is used
until it expires, so an EHR issuing tokens shorter than the margin is not asked once per read).
Within a process a striped lock lets only one request refresh a session; across processes the
session's version column does (optimistic locking): the loser reads the winner's tokens instead
of refreshing again.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fhir_client import FhirClient
from launch import AuthError, TokenSet, refresh
from smartapp.db import LaunchSession, SessionGrant
from smartapp.errors import SessionExpired
from smartapp.services import Services

REFRESH_MARGIN = timedelta(seconds=60)
_LOCKS = tuple(threading.Lock() for _ in range(64))


class EhrAccess:
    """The EHR behind one launch session, as the app's FHIR client sees it."""

    def __init__(self, services: Services, handle: str, session: LaunchSession) -> None:
        self._services = services
        self._handle = handle
        self._session = session
        self._fresh = False  # the tokens were obtained by this access: no refresh ahead of expiry
        self.issuer = services.issuers.get(session.grant.iss)

    @property
    def handle(self) -> str:
        """The launch session's handle."""
        return self._handle

    @property
    def grant(self) -> SessionGrant:
        """The session's current tokens and launch context."""
        return self._session.grant

    def access_token(self) -> str:
        """A token valid for at least another minute (a just-obtained one: not yet expired),
        refreshing it first when needed."""
        expires_at = self.grant.token_expires_at
        margin = timedelta(0) if self._fresh else REFRESH_MARGIN
        if expires_at is not None and expires_at - datetime.now(UTC) <= margin:
            self.refresh_tokens()
        return self.grant.access_token

    def refresh_tokens(self) -> bool:
        """Refresh now (also after a 401); SessionExpired when the EHR will not refresh."""
        before = self._session.refresh_version
        with _LOCKS[hash(self._handle) % len(_LOCKS)]:
            latest = self._services.sessions.get(self._handle)
            if latest is None:
                raise SessionExpired(
                    "Your app session has ended. Open the app again from the chart."
                )
            if latest.refresh_version != before:
                self._session = latest  # another request refreshed while this one waited
            else:
                self._session = latest
                self._refresh_at_ehr()
            self._fresh = True
            return True

    def client(self) -> FhirClient:
        """A FHIR client for this session's EHR with the issuer's vendor profile and limits."""
        return FhirClient(
            self.grant.iss,
            self.access_token,
            session=self._services.http_for(self.issuer),
            vendor=self.issuer.vendor,
            page_size=self.issuer.page_size,
            timeout=self._services.settings.fhir_timeout_s,
            on_unauthorized=self.refresh_tokens,
            capability_cache=self._services.capabilities,
            cache_key=self.grant.client_id,
        )

    def _refresh_at_ehr(self) -> bool:
        grant = self.grant
        if not grant.refresh_token:
            raise SessionExpired("Your EHR sign-in has expired. Open the app again from the chart.")
        services = self._services
        http = services.http_for(self.issuer)
        try:
            renewed = refresh(
                self.issuer,
                services.discovery.get(self.issuer.iss, http),
                _token_set(grant),
                http=http,
                key_ring=services.keys,
                now=datetime.now(UTC),
                client_secret=services.client_secrets.get(self.issuer.iss),
            )
        except AuthError:
            latest = services.sessions.get(self._handle)
            if latest is not None and latest.refresh_version != self._session.refresh_version:
                self._session = latest  # another worker refreshed first with the same token
                return True
            raise SessionExpired(
                "The EHR no longer accepts this session. Open the app again from the chart."
            ) from None
        new_grant = replace(
            grant,
            access_token=renewed.access_token,
            refresh_token=renewed.refresh_token,
            token_expires_at=renewed.expires_at,
            scopes=" ".join(renewed.scopes) or grant.scopes,
        )
        # Stored, or another worker stored first: either way the session now holds fresh tokens.
        services.sessions.store_refreshed_tokens(
            self._handle, self._session.refresh_version, new_grant
        )
        latest = services.sessions.get(self._handle)
        if latest is None:
            raise SessionExpired("Your app session has ended. Open the app again from the chart.")
        self._session = latest
        return True


def _token_set(grant: SessionGrant) -> TokenSet:
    return TokenSet(
        access_token=grant.access_token,
        token_type="Bearer",  # noqa: S106  # the OAuth token type, not a secret
        expires_at=grant.token_expires_at or datetime.now(UTC),
        scopes=tuple(grant.scopes.split()),
        refresh_token=grant.refresh_token,
        patient=grant.patient,
        encounter=grant.encounter,
        need_patient_banner=grant.need_patient_banner,
        smart_style_url=grant.smart_style_url,
        fhir_user=grant.fhir_user,
    )
