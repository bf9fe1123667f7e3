"""OpenID Connect id_token validation: signature against the issuer's JWKS, then its claims.

SMART App Launch 2.2, "Scopes for requesting identity data" (`openid fhirUser`); OpenID Connect
Core 1.0 section 3.1.3.7 (iss, aud, exp, iat, nonce, azp, at_hash), checked by Authlib's
CodeIDToken on claims decoded by joserfc.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import requests
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError

from launch.discovery import SmartConfiguration
from launch.ehr_key_sets import EhrKeySets, ehr_key_sets
from launch.errors import AuthError
from launch.fetch import DEFAULT_TIMEOUT, FetchFailed
from launch.issuers import IssuerConfig

__all__ = ["ID_TOKEN_ALGORITHMS", "check_id_token_claims", "validate_id_token", "verified_id_token"]

# Asymmetric algorithms only: "none" and HMAC (keyed with a secret we may share) are refused.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
# Seconds of clock skew allowed on exp and iat.
LEEWAY_S = 60


def _invalid(problem: str, *, retryable: bool = False) -> AuthError:
    return AuthError(
        "invalid_id_token",
        f"The EHR's identity token was not valid: {problem}.",
        retryable=retryable,
    )


def validate_id_token(
    id_token: str,
    *,
    issuer: IssuerConfig,
    smart_config: SmartConfiguration,
    http: requests.Session,
    now: datetime,
    nonce: str | None,
    access_token: str | None = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
) -> dict[str, Any]:
    """The id_token's claims once its signature, iss, aud, exp, iat and nonce check out.

    `nonce` None skips the nonce check (refreshed id_tokens need not carry one).
    """
    token = verified_id_token(id_token, smart_config=smart_config, http=http, timeout=timeout)
    return check_id_token_claims(
        token,
        issuer=issuer,
        smart_config=smart_config,
        now=now,
        nonce=nonce,
        access_token=access_token,
    )


def verified_id_token(
    id_token: str,
    *,
    smart_config: SmartConfiguration,
    http: requests.Session,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    key_sets: EhrKeySets = ehr_key_sets,
) -> jwt.Token:
    """The id_token decoded once its signature checks out against the EHR's JWKS (claims
    unchecked). The key set is kept a few minutes; a token it cannot verify reads it again once,
    as after the EHR rotated its keys."""
    url = smart_config.jwks_uri
    if not url:
        raise _invalid("the EHR publishes no jwks_uri to check it against")
    with _reading_keys():
        key_set = key_sets.get(http, url, timeout=timeout)
    try:
        return jwt.decode(id_token, key_set, algorithms=ID_TOKEN_ALGORITHMS)
    except (JoseError, ValueError):
        pass
    with _reading_keys():
        fresh = key_sets.reread(http, url, timeout=timeout)
    if fresh is not None:
        try:
            return jwt.decode(id_token, fresh, algorithms=ID_TOKEN_ALGORITHMS)
        except (JoseError, ValueError):
            pass
    raise _invalid("bad signature or format")


@contextmanager
def _reading_keys() -> Iterator[None]:
    """Reading the EHR's key set: its failures said as an invalid id_token."""
    try:
        yield
    except FetchFailed as failure:
        raise _invalid(f"its keys could not be read ({failure.reason})", retryable=True) from None
    except (JoseError, ValueError, KeyError, TypeError):
        raise _invalid("the EHR's key set is malformed") from None


def check_id_token_claims(
    token: jwt.Token,
    *,
    issuer: IssuerConfig,
    smart_config: SmartConfiguration,
    now: datetime,
    nonce: str | None,
    access_token: str | None = None,
) -> dict[str, Any]:
    """The claims of a verified id_token once iss, aud, exp, iat, nonce and at_hash check out."""
    # The OpenID issuer may differ from the FHIR base (it is the smart-configuration `issuer`).
    expected_iss = smart_config.issuer or issuer.iss
    claims = CodeIDToken(
        token.claims,
        token.header,
        {
            "iss": {"essential": True, "value": expected_iss},
            "aud": {"essential": True, "value": issuer.client_id},
        },
        {"nonce": nonce, "client_id": issuer.client_id, "access_token": access_token},
    )
    try:
        claims.validate(now=int(now.timestamp()), leeway=LEEWAY_S)
    except JoseError as error:
        raise _invalid(f"{error.error} ({error.description or 'claims'})") from None
    return dict(claims)
