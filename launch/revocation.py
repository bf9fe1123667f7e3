"""Token revocation (RFC 7009) at sign-out: the refresh token, else the access token, ended."""

from __future__ import annotations

from datetime import datetime

import requests

from launch.discovery import SmartConfiguration
from launch.errors import AuthError
from launch.fetch import DEFAULT_TIMEOUT, redirect_problem, tls_problem
from launch.issuers import IssuerConfig
from launch.keys import KeyRing
from launch.oauth import oauth_client
from launch.tokens import TokenSet

__all__ = ["revoke"]


def revoke(
    issuer: IssuerConfig,
    smart_config: SmartConfiguration,
    token_set: TokenSet,
    *,
    http: requests.Session,
    now: datetime,
    key_ring: KeyRing | None = None,
    client_secret: str | None = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
) -> bool:
    """Ask the EHR to revoke the session's grant: True when it did, False when its SMART
    configuration advertises no `revocation_endpoint`; AuthError (no token text) when it failed.

    The refresh token is revoked when there is one (the server then ends its access tokens as
    RFC 7009 section 2.1 expects), else the access token. The client authenticates as it does
    at the token endpoint. A redirect is refused, as for the token calls: it could carry the
    token elsewhere.
    """
    url = smart_config.revocation_endpoint
    if not url:
        return False
    if token_set.refresh_token:
        token, hint = token_set.refresh_token, "refresh_token"
    else:
        token, hint = token_set.access_token, "access_token"
    client = oauth_client(
        issuer, smart_config, http=http, now=now, client_secret=client_secret, key_ring=key_ring
    )
    try:
        response = client.revoke_token(
            url, token=token, token_type_hint=hint, timeout=timeout, allow_redirects=False
        )
    except requests.exceptions.SSLError:
        raise AuthError(
            "tls_untrusted", f"The token revocation failed: {tls_problem(url)}.", status=502
        ) from None
    except requests.RequestException:
        raise AuthError(
            "revocation_unreachable",
            "The EHR did not answer the token revocation.",
            retryable=True,
            status=502,
        ) from None
    status = response.status_code
    if 300 <= status < 400:
        raise AuthError(
            "revocation_redirect",
            f"The token revocation failed: {redirect_problem(url, status)}.",
            status=502,
        )
    if status != 200:
        raise AuthError(
            "revocation_failed",
            f"The EHR did not revoke the token (HTTP {status}).",
            retryable=status == 429 or status >= 500,
            status=502,
        )
    return True
