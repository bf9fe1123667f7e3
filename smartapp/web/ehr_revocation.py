"""Revoking a signed-out session's token at its EHR: best effort, logged without the token."""

from __future__ import annotations

import logging

from launch import SmartClientError
from launch.revocation import revoke
from smartapp.clock import now_utc
from smartapp.db import LaunchSession
from smartapp.services import Services

LOGGER = logging.getLogger("smartapp.session")
# (connect, read) seconds: the prescriber waits on the sign-out page, and the session has already
# ended in the app, so a slow revocation endpoint is given less time than the token endpoint.
REVOCATION_TIMEOUT: tuple[float, float] = (3.0, 5.0)


def revoke_at_ehr(services: Services, session: LaunchSession) -> bool:
    """Ask the session's own EHR (its issuer) to revoke its refresh token, else its access
    token, when its SMART configuration advertises a revocation endpoint. True when the EHR
    revoked it; a failure is logged by issuer and error code only and never raised."""
    try:
        issuer = services.issuers.get(session.iss)
        http = services.http_for(issuer)
        return revoke(
            issuer,
            services.discovery.get(issuer.iss, http),
            session.tokens,
            http=http,
            now=now_utc(),
            key_ring=services.keys,
            client_secret=services.client_secrets.get(issuer.iss),
            timeout=REVOCATION_TIMEOUT,
        )
    except SmartClientError as failed:
        LOGGER.warning(
            "token revocation failed",
            extra={"fields": {"iss": session.iss, "error": failed.error}},
        )
        return False
