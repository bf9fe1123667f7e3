"""SMART Backend Services: an access token for a system (no user), for Bulk Data exports.

https://hl7.org/fhir/smart-app-launch/backend-services.html: `grant_type=client_credentials`
with a `private_key_jwt` client assertion (RS384 or ES384, signed with the app's keys, the same
JWKS the launch client publishes; `exp` at most five minutes ahead, a fresh `jti`) and
`system/` scopes. No refresh token: a new assertion gets a new token.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import requests

from launch.discovery import SmartConfiguration
from launch.errors import AuthError, ConfigurationError
from launch.issuers import AuthMethod, IssuerConfig, SigningAlg
from launch.keys import KeyRing
from launch.oauth import oauth_client, token_request
from launch.scopes import split_scopes

__all__ = ["BackendToken", "backend_token"]

# Lifetime assumed when the EHR leaves out expires_in (Backend Services says it SHOULD send it).
DEFAULT_LIFETIME = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class BackendToken:
    """A system access token; the token itself stays out of repr."""

    access_token: str = field(repr=False)
    expires_at: datetime
    scopes: tuple[str, ...]

    def expired(self, now: datetime, margin: timedelta = timedelta(seconds=30)) -> bool:
        """Whether the token is expired, or will be within `margin` of `now`."""
        return now >= self.expires_at - margin


def backend_issuer(issuer: IssuerConfig) -> IssuerConfig:
    """The issuer as its Backend Services client: its own client id, private_key_jwt."""
    if not issuer.backend_client_id:
        raise ConfigurationError(
            "missing_backend_client",
            f"issuer {issuer.name!r} has no backend_client_id: register the app's Backend"
            " Services client with the EHR (see `smartapp registration`) and add it to the"
            " issuers file",
        )
    return replace(
        issuer,
        client_id=issuer.backend_client_id,
        auth_method=AuthMethod.PRIVATE_KEY_JWT,
        client_secret_env=None,
        signing_alg=issuer.signing_alg or SigningAlg.RS384,
    )


def backend_token(
    issuer: IssuerConfig,
    smart_config: SmartConfiguration,
    *,
    http: requests.Session,
    now: datetime,
    key_ring: KeyRing,
) -> BackendToken:
    """A new system token for the issuer's `backend_scopes`; AuthError when refused."""
    client = oauth_client(
        backend_issuer(issuer), smart_config, http=http, now=now, key_ring=key_ring
    )
    response = token_request(
        lambda: client.fetch_token(
            smart_config.token_endpoint,
            grant_type="client_credentials",
            scope=issuer.backend_scopes,
        ),
        "Backend Services token request",
    )
    access_token = response.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise AuthError("invalid_token_response", "The EHR's token response has no access_token.")
    lifetime = response.get("expires_in")
    seconds = lifetime if isinstance(lifetime, int) and not isinstance(lifetime, bool) else None
    expires_at = now + (timedelta(seconds=seconds) if seconds and seconds > 0 else DEFAULT_LIFETIME)
    granted = split_scopes(str(response.get("scope") or issuer.backend_scopes))
    return BackendToken(access_token, expires_at, granted)
