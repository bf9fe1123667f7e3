"""SMART discovery: an issuer's endpoints and capabilities, from its configuration document.

Reads `{iss}/.well-known/smart-configuration` (SMART App Launch 2.2, "Conformance":
https://hl7.org/fhir/smart-app-launch/conformance.html), falling back for older servers to the
CapabilityStatement at `{iss}/metadata` and its `oauth-uris` security extension (SMART 1.0).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from cachetools import TTLCache

from launch.errors import LaunchError
from launch.fetch import DEFAULT_TIMEOUT, FetchFailed, get_json
from launch.urls import is_secure_url, normalise_iss

__all__ = ["OAUTH_URIS", "DiscoveryCache", "SmartConfiguration", "discover"]

OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
CAPABILITIES_EXTENSION = "http://fhir-registry.smarthealthit.org/StructureDefinition/capabilities"
# oauth-uris sub-extension names -> SmartConfiguration fields.
_OAUTH_URI_FIELDS = {
    "authorize": "authorization_endpoint",
    "token": "token_endpoint",
    "introspect": "introspection_endpoint",
    "revoke": "revocation_endpoint",
}
_URL_FIELDS = ("authorization_endpoint", "token_endpoint", "jwks_uri", *_OAUTH_URI_FIELDS.values())
_LIST_FIELDS = (
    "capabilities",
    "code_challenge_methods_supported",
    "scopes_supported",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "grant_types_supported",
)


@dataclass(frozen=True, slots=True)
class SmartConfiguration:
    """What the app needs to know about one issuer's authorization server."""

    iss: str
    authorization_endpoint: str
    token_endpoint: str
    issuer: str | None = None
    jwks_uri: str | None = None
    introspection_endpoint: str | None = None
    revocation_endpoint: str | None = None
    capabilities: tuple[str, ...] = ()
    code_challenge_methods_supported: tuple[str, ...] = ()
    scopes_supported: tuple[str, ...] = ()
    token_endpoint_auth_methods_supported: tuple[str, ...] = ()
    token_endpoint_auth_signing_alg_values_supported: tuple[str, ...] = ()
    grant_types_supported: tuple[str, ...] = ()
    source: str = "smart-configuration"

    def supports(self, capability: str) -> bool:
        """Whether the server declares a SMART capability (e.g. `context-ehr-patient`)."""
        return capability in self.capabilities


def _failed(problem: str, *, retryable: bool = False) -> LaunchError:
    return LaunchError(
        "discovery_failed",
        f"The EHR's SMART configuration could not be used: {problem}.",
        retryable=retryable,
        status=502,
    )


def discover(
    iss: str,
    http: requests.Session,
    *,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
) -> SmartConfiguration:
    """The issuer's SMART configuration; LaunchError when unreadable, insecure or without S256."""
    try:
        base = normalise_iss(iss)
    except ValueError:
        raise LaunchError("invalid_issuer", "The launch named an invalid issuer.") from None
    try:
        document = get_json(http, f"{base}/.well-known/smart-configuration", timeout=timeout)
    except FetchFailed as failure:
        if failure.retryable or failure.redirected:  # no fallback past a redirect either
            raise _failed(failure.reason, retryable=failure.retryable) from None
        try:
            statement = get_json(
                http, f"{base}/metadata", accept="application/fhir+json", timeout=timeout
            )
        except FetchFailed as fallback:
            redirected = fallback.redirected
            reason = fallback.reason if redirected else f"no configuration ({fallback.reason})"
            raise _failed(reason, retryable=fallback.retryable) from None
        document = _from_capability_statement(statement)
        return _configuration(base, document, source="metadata")
    return _configuration(base, document, source="smart-configuration")


def _configuration(base: str, document: dict[str, Any], *, source: str) -> SmartConfiguration:
    for name in ("authorization_endpoint", "token_endpoint"):
        if not isinstance(document.get(name), str):
            raise _failed(f"{name} is missing")
    for name in _URL_FIELDS:
        value = document.get(name)
        if value is not None and not (isinstance(value, str) and is_secure_url(value)):
            raise _failed(f"{name} is not an https URL")
    lists = {name: _strings(document.get(name)) for name in _LIST_FIELDS}
    # PKCE S256 is required by SMART 2; refuse a server that says it cannot do it.
    if "code_challenge_methods_supported" in document:
        if "S256" not in lists["code_challenge_methods_supported"]:
            raise _failed("it does not support PKCE S256")
    issuer = document.get("issuer")
    return SmartConfiguration(
        iss=base,
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        issuer=issuer if isinstance(issuer, str) else None,
        jwks_uri=document.get("jwks_uri"),
        introspection_endpoint=document.get("introspection_endpoint"),
        revocation_endpoint=document.get("revocation_endpoint"),
        source=source,
        **lists,
    )


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def _from_capability_statement(statement: dict[str, Any]) -> dict[str, Any]:
    """A smart-configuration-shaped dict from CapabilityStatement.rest[].security.extension."""
    document: dict[str, Any] = {}
    capabilities: list[str] = []
    for rest in _dicts(statement.get("rest")):
        security = rest.get("security")
        for extension in _dicts(security.get("extension") if isinstance(security, dict) else None):
            if extension.get("url") == OAUTH_URIS:
                for uri in _dicts(extension.get("extension")):
                    name = _OAUTH_URI_FIELDS.get(str(uri.get("url")))
                    if name and "valueUri" in uri:
                        document.setdefault(name, uri["valueUri"])
            elif extension.get("url") == CAPABILITIES_EXTENSION and "valueCode" in extension:
                capabilities.append(extension["valueCode"])
    if capabilities:
        document["capabilities"] = capabilities
    return document


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _cache_key(iss: str) -> str:
    try:
        return normalise_iss(iss)
    except ValueError:
        return iss  # never cached: discover() refuses it


class DiscoveryCache:
    """Per-issuer SmartConfiguration kept for `ttl` (a cachetools TTLCache); thread-safe.

    Only successful discoveries are kept: a failure is asked again at the next launch.
    """

    def __init__(
        self,
        ttl: timedelta = timedelta(hours=1),
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        max_issuers: int = 256,
    ) -> None:
        self.ttl_s = ttl.total_seconds()
        self.timeout = timeout
        self._entries: TTLCache[str, SmartConfiguration] = TTLCache(
            maxsize=max_issuers, ttl=self.ttl_s, timer=clock
        )
        self._lock = threading.Lock()

    def get(self, iss: str, http: requests.Session) -> SmartConfiguration:
        """The cached configuration for `iss`, discovered again once older than `ttl`."""
        key = _cache_key(iss)
        with self._lock:
            found = self._entries.get(key)
        if found is not None:
            return found
        config = discover(iss, http, timeout=self.timeout)
        with self._lock:
            self._entries[key] = config
        return config
