"""A refreshed id_token: used, ignored (the sign-in's identity kept), or the session's end.

SMART App Launch 2.2 ("Refresh access token") lets the EHR send a new id_token with a refresh;
OpenID Connect Core 1.0 section 12.2 requires its `iss` and `sub` to be those of the original
sign-in. The EHR has accepted the refresh (its new access token is what the app uses), so an
id_token that cannot be used (a missing or wrong `aud`, a bad signature, an `exp` past) is
ignored with its reason; one that names another issuer or subject means the sign-in changed
hands, and the session ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from launch.discovery import SmartConfiguration
from launch.errors import AuthError
from launch.fetch import DEFAULT_TIMEOUT
from launch.id_token import check_id_token_claims, verified_id_token
from launch.issuers import IssuerConfig

__all__ = ["RenewedIdentity", "renewed_identity"]

# The claims that say who signed in: a refreshed id_token naming others ends the session.
IDENTITY_CLAIMS = ("iss", "sub")


@dataclass(frozen=True, slots=True)
class RenewedIdentity:
    """The claims the session keeps after a refresh; `ignored` says why the refreshed
    id_token was not used (no token text in it), None when it was."""

    claims: dict[str, Any]
    ignored: str | None = None


def renewed_identity(
    id_token: str,
    *,
    original: Mapping[str, Any],
    issuer: IssuerConfig,
    smart_config: SmartConfiguration,
    http: requests.Session,
    now: datetime,
    access_token: str | None = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
) -> RenewedIdentity:
    """The identity after a refresh that returned `id_token`; AuthError `identity_changed`
    when its `iss` or `sub` differs from the original sign-in's."""
    kept = dict(original)
    try:
        token = verified_id_token(id_token, smart_config=smart_config, http=http, timeout=timeout)
    except AuthError as error:
        return RenewedIdentity(kept, error.message)
    for name in IDENTITY_CLAIMS:
        value, before = token.claims.get(name), original.get(name)
        if value is not None and before is not None and value != before:
            raise AuthError(
                "identity_changed",
                "The EHR renewed this session for another sign-in. Open the app again from"
                " the chart.",
            )
    try:
        claims = check_id_token_claims(
            token,
            issuer=issuer,
            smart_config=smart_config,
            now=now,
            nonce=None,
            access_token=access_token,
        )
    except AuthError as error:  # a missing `sub` among them: OpenID requires it
        return RenewedIdentity(kept, error.message)
    return RenewedIdentity(claims)
