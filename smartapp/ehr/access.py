"""FHIR access for one launch session: fresh tokens, refreshed ahead of expiry, one at a time.

Tokens are refreshed a tenth of their lifetime before they expire, at most a minute ahead
(`launch.refresh_margin`: a 60-second token is not refreshed as soon as the launch has it), and
a token this access has just obtained is used until it expires. A refreshed id_token that cannot
be used is ignored (the sign-in's identity kept, the reason logged); one naming another sign-in,
or a refresh the EHR refuses, ends the session (revoked, its cause logged).
Within a process a striped lock lets only one request refresh a session; across processes the
session's version column does (optimistic locking): the loser reads the winner's tokens instead
of refreshing again.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from fhir_client import FhirClient
from launch import AuthError, TokenSet, refresh, refresh_margin
from smartapp.clock import now_utc
from smartapp.db import LaunchSession
from smartapp.ehr.patient_identity import check_renewed_patient
from smartapp.errors import SessionExpired
from smartapp.services import Services

LOGGER = logging.getLogger("smartapp.session")
_LOCKS = tuple(threading.Lock() for _ in range(64))


class EhrAccess:
    """The EHR behind one launch session, as the app's FHIR client sees it."""

    def __init__(self, services: Services, handle: str, session: LaunchSession) -> None:
        self._services = services
        self._handle = handle
        self._session = session
        self._fresh = False  # the tokens were obtained by this access: no refresh ahead of expiry
        self._client: FhirClient | None = None
        self.issuer = services.issuers.get(session.iss)

    @property
    def handle(self) -> str:
        """The launch session's handle."""
        return self._handle

    @property
    def session(self) -> LaunchSession:
        """The launch session as last read (after a refresh: with the new tokens)."""
        return self._session

    @property
    def tokens(self) -> TokenSet:
        """The session's current token set and launch context."""
        return self._session.tokens

    def access_token(self) -> str:
        """A token valid for at least its refresh margin (a just-obtained one: not yet
        expired), refreshing it first when needed."""
        margin = timedelta(0) if self._fresh else refresh_margin(self.tokens)
        if self.tokens.expires_at - now_utc() <= margin:
            self.refresh_tokens()
        return self.tokens.access_token

    def refresh_tokens(self) -> bool:
        """Refresh now (also after a 401); SessionExpired when the EHR will not refresh."""
        before = self._session.refresh_version
        with _LOCKS[hash(self._handle) % len(_LOCKS)]:
            latest = self._services.sessions.get(self._handle)
            if latest is None:
                raise SessionExpired(
                    "Your app session has ended. Open the app again from the chart.",
                    cause=self._services.sessions.ended_cause(self._handle) or "ended",
                )
            self._session = latest
            if latest.refresh_version == before:
                self._refresh_at_ehr()
            # else: another request refreshed while this one waited; its tokens are used
            self._fresh = True
            return True

    def client(self) -> FhirClient:
        """This access's FHIR client (one per request) with the issuer's vendor profile, limits
        and HTTP session, and the app's shared CapabilityStatement cache."""
        if self._client is None:
            self._client = FhirClient(
                self._session.iss,
                self.access_token,
                session=self._services.http_for(self.issuer),
                vendor=self.issuer.vendor,  # None: read from the CapabilityStatement
                client_id=self._session.client_id,
                page_size=self.issuer.page_size,
                timeout=self._services.settings.fhir_timeout_s,
                on_unauthorized=self.refresh_tokens,
                capability_cache=self._services.capabilities,
                cache_key=self._session.client_id,
            )
        return self._client

    def _end(self, message: str, cause: str) -> SessionExpired:
        """Revoke the session and log why it ended (later requests on it see `revoked`)."""
        if self._services.sessions.revoke(self._handle):
            LOGGER.warning(
                "session ended", extra={"fields": {"iss": self._session.iss, "cause": cause}}
            )
        return SessionExpired(message, cause=cause)

    def _refresh_at_ehr(self) -> None:
        if not self.tokens.refresh_token:
            raise self._end(
                "Your EHR sign-in has expired. Open the app again from the chart.",
                "no_refresh_token",
            )
        services = self._services
        http = services.http_for(self.issuer)
        try:
            renewed = refresh(
                self.issuer,
                services.discovery.get(self.issuer.iss, http),
                self.tokens,
                http=http,
                key_ring=services.keys,
                now=now_utc(),
                client_secret=services.client_secrets.get(self.issuer.iss),
                on_ignored_id_token=self._log_ignored_id_token,
            )
        except AuthError as refused:
            if refused.error == "identity_changed":
                raise self._end(refused.message, "identity_changed") from None
            latest = services.sessions.get(self._handle)
            if latest is not None and latest.refresh_version != self._session.refresh_version:
                self._session = latest  # another worker refreshed first with the same token
                return
            if refused.retryable:  # busy or unreachable, not a refusal: the session stands
                LOGGER.warning(
                    "session renewal unanswered",
                    extra={
                        "fields": {
                            "iss": self._session.iss,
                            "cause": f"refresh_unavailable:{refused.error}",
                        }
                    },
                )
                raise
            raise self._end(
                "The EHR no longer accepts this session. Open the app again from the chart.",
                f"refresh_refused:{refused.error}",
            ) from None
        check_renewed_patient(self.tokens.patient, renewed.patient)
        # Stored, or another worker stored first: either way the session now holds fresh tokens.
        services.sessions.store_refreshed_tokens(
            self._handle, self._session.refresh_version, renewed
        )
        latest = services.sessions.get(self._handle)
        if latest is None:
            raise SessionExpired(
                "Your app session has ended. Open the app again from the chart.",
                cause=services.sessions.ended_cause(self._handle) or "ended",
            )
        self._session = latest

    def _log_ignored_id_token(self, reason: str) -> None:
        # The reason names the claim or check that failed, never the token or its claims.
        LOGGER.warning(
            "refreshed id_token ignored",
            extra={"fields": {"iss": self._session.iss, "reason": reason}},
        )
