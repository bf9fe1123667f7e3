"""Trusting CDS clients: the EHR's JWT checked against the issuers file (CDS Hooks 2.0).

Accepted only from a configured CDS client (`cds_client_iss`), signed ES384 or RS384 with a key
of its JWKS (inline, or by URL, cached and read again for an unknown `kid`), `aud` the URL the
app publishes, `exp` in the future and at most 5 minutes after `iat`, each `jti` once (in the
database, so across instances). Anything else is a ClientRejected naming the reason.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization
from joserfc.jws import extract_compact

from launch import IssuerConfig, IssuerRegistry
from launch.fetch import FetchFailed, get_json
from smartapp.db.cds_models import JTI_MAX_LENGTH
from smartapp.db.cds_store import JwtIdLedger

ALGORITHMS = ("ES384", "RS384")
MAX_LIFETIME_S = 300
# Clock skew allowed on `iat` (a JWT issued a little in the future); `exp` has none.
LEEWAY_S = 30
JWKS_TTL_S = 600
# An unknown kid reads the JWKS URL again, at most this often (a flood of bad kids must not).
JWKS_REFETCH_S = 30


class ClientRejected(Exception):
    """The request is not from a trusted CDS client; `reason` says why (no secrets in it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TrustedClient:
    """A verified request's CDS client: the EHR's issuer table, and the JWT's claims."""

    issuer: IssuerConfig
    claims: dict[str, Any]


class KeySets:
    """The CDS clients' key sets: inline ones parsed once, URL ones cached for JWKS_TTL_S."""

    def __init__(
        self,
        http_for: Callable[[IssuerConfig], requests.Session],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http_for = http_for
        self._clock = clock
        self._cache: dict[str, tuple[float, KeySet]] = {}
        self._inline: dict[str, KeySet] = {}
        self._lock = threading.Lock()

    def for_client(self, issuer: IssuerConfig, kid: str) -> KeySet:
        """The client's key set, read again when `kid` is not in a cached one."""
        if issuer.cds_jwks is not None:
            with self._lock:
                keys = self._inline.get(issuer.cds_jwks)
            if keys is None:
                keys = _key_set(json.loads(issuer.cds_jwks))
                with self._lock:
                    self._inline[issuer.cds_jwks] = keys
            return keys
        url = issuer.cds_jwks_url
        assert url is not None  # noqa: S101  # checked when the issuers file is loaded
        now = self._clock()
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None:
            fetched_at, keys = cached
            fresh = now - fetched_at < JWKS_TTL_S
            if fresh and (_has_kid(keys, kid) or now - fetched_at < JWKS_REFETCH_S):
                return keys
        try:
            keys = _key_set(get_json(self._http_for(issuer), url))
        except FetchFailed as failure:
            raise ClientRejected(
                f"the CDS client's JWKS could not be read ({failure.reason})"
            ) from None
        with self._lock:
            self._cache[url] = (now, keys)
        return keys


def _key_set(value: object) -> KeySet:
    try:
        return KeySet.import_key_set(cast(KeySetSerialization, value))
    except (JoseError, ValueError, KeyError, TypeError):
        raise ClientRejected("the CDS client's JWKS is malformed") from None


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)


@dataclass(frozen=True, slots=True)
class Verifier:
    """Checks one request's `Authorization` header (see the module docstring)."""

    issuers: IssuerRegistry
    key_sets: KeySets
    jwt_ids: JwtIdLedger

    def verify(self, authorization: str | None, audience: str, *, now: datetime) -> TrustedClient:
        """The trusted client; ClientRejected otherwise."""
        token = _bearer(authorization)
        header, unverified = _unverified(token)
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise ClientRejected(f"alg {str(alg)[:20]!r} is not accepted (ES384 or RS384 only)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ClientRejected("the JWT header names no kid")
        client_iss = unverified.get("iss")
        issuer = self.issuers.for_cds_client(client_iss) if isinstance(client_iss, str) else None
        if issuer is None:
            raise ClientRejected("the JWT's iss is not a CDS client configured for this app")
        keys = self.key_sets.for_client(issuer, kid)
        if not _has_kid(keys, kid):
            raise ClientRejected("the JWT's kid is not in the CDS client's JWKS")
        try:
            claims = jwt.decode(token, keys, algorithms=[alg]).claims
        except (JoseError, ValueError):
            raise ClientRejected("the JWT's signature does not verify") from None
        _check_claims(claims, audience, now)
        jti = claims["jti"]
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        if not self.jwt_ids.use(issuer.cds_client_iss or "", jti, expires_at, now=now):
            raise ClientRejected("the JWT's jti was used before (a replay)")
        return TrustedClient(issuer, claims)


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ClientRejected("no Bearer JWT in the Authorization header")
    return token.strip()


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and the claims before the signature is checked (to find the client's keys)."""
    try:
        compact = extract_compact(token.encode("ascii"))
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError):
        raise ClientRejected("the Authorization header does not hold a signed JWT") from None
    if not isinstance(claims, dict):
        raise ClientRejected("the JWT's payload is not a JSON object")
    return dict(compact.headers()), claims


def _number(claims: dict[str, Any], name: str) -> int:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ClientRejected(f"the JWT has no numeric {name}")
    return int(value)


def _check_claims(claims: dict[str, Any], audience: str, now: datetime) -> None:
    aud = claims.get("aud")
    if aud != audience and not (isinstance(aud, list) and aud == [audience]):
        raise ClientRejected(f"the JWT's aud is not {audience}")
    moment = int(now.timestamp())
    exp, iat = _number(claims, "exp"), _number(claims, "iat")
    if exp <= moment:
        raise ClientRejected("the JWT has expired")
    if iat > moment + LEEWAY_S:
        raise ClientRejected("the JWT was issued in the future")
    if exp - iat > MAX_LIFETIME_S:
        raise ClientRejected("the JWT's exp is more than 5 minutes after its iat")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > JTI_MAX_LENGTH:
        raise ClientRejected(f"the JWT has no jti (a string of at most {JTI_MAX_LENGTH})")
