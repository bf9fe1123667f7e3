"""Registered SMART clients: loaded from `sandbox/clients.toml`, extendable at run time."""

from __future__ import annotations

import secrets
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from authlib.oauth2.rfc6749 import ClientMixin
from joserfc.jwk import KeySet

from sandbox.ehr.config import VENDORS, ConfigError
from sandbox.ehr.scopes import allowed_subset, is_known_scope

AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post", "private_key_jwt")
SECRET_METHODS = frozenset({"client_secret_basic", "client_secret_post"})
JWKS_FETCH_TIMEOUT_S = 5
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
DEFAULT_GRANT_TYPES = ("authorization_code", "refresh_token")


@dataclass(slots=True)
class Client(ClientMixin):  # type: ignore[misc]
    """One registered client, as Authlib's server expects it (`ClientMixin`)."""

    client_id: str
    token_endpoint_auth_method: str
    redirect_uris: tuple[str, ...]
    scope: tuple[str, ...]
    name: str = ""
    client_secret: str | None = None
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    launch_url: str | None = None
    vendor: str | None = None
    access_token_lifetime_s: int | None = None
    grant_types: tuple[str, ...] = DEFAULT_GRANT_TYPES
    introspect_any: bool = False

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # SMART requires redirect_uri on every authorization request: no default.
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        granted = allowed_subset(scope, self.scope)
        return " ".join(granted) if granted else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.client_secret:
            return False
        return secrets.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.token_endpoint_auth_method in SECRET_METHODS:
            return method in SECRET_METHODS
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


class ClientRegistry:
    """Thread-safe registry of clients; `ca_path` verifies HTTPS `jwks_uri` fetches."""

    def __init__(self, clients: dict[str, Client], ca_path: Path | None = None) -> None:
        self._clients = dict(clients)
        self._lock = threading.Lock()
        self.ca_path = ca_path

    def get(self, client_id: str | None) -> Client | None:
        if not client_id:
            return None
        with self._lock:
            return self._clients.get(client_id)

    def register(self, client: Client) -> None:
        with self._lock:
            self._clients[client.client_id] = client

    def ids(self) -> list[str]:
        with self._lock:
            return sorted(self._clients)

    def public_keys(self, client: Client) -> KeySet:
        """The client's JWKS for verifying its assertions: inline, or fetched from its URL."""
        if client.jwks is not None:
            return KeySet.import_key_set(client.jwks)  # type: ignore[arg-type]
        if not client.jwks_uri:
            raise LookupError(f"client {client.client_id} registered no JWKS")
        verify: str | bool = str(self.ca_path) if self.ca_path else True
        response = requests.get(client.jwks_uri, timeout=JWKS_FETCH_TIMEOUT_S, verify=verify)
        response.raise_for_status()
        return KeySet.import_key_set(response.json())


def load_clients(path: Path) -> dict[str, Client]:
    """Read the clients file; a malformed entry stops start-up with a message naming it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"clients file not found: {path}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"clients file {path} is not valid TOML: {error}") from error
    tables = data.get("clients")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{path} registers no [clients.<id>] table")
    return {client_id: client_from_dict(client_id, table) for client_id, table in tables.items()}


def client_from_dict(client_id: str, table: dict[str, Any]) -> Client:
    """Build a client from a TOML table or a JSON registration; raise ConfigError if invalid."""
    where = f"client {client_id!r}"
    method = table.get("token_endpoint_auth_method", "none")
    if method not in AUTH_METHODS:
        raise ConfigError(f"{where}: token_endpoint_auth_method must be one of {AUTH_METHODS}")
    grant_types = _grant_types(table.get("grant_types"), method, where)
    redirect_uris: list[str] = []
    if grant_types != ("client_credentials",) or table.get("redirect_uris") is not None:
        redirect_uris = _strings(table.get("redirect_uris"), f"{where}: redirect_uris")
    scope = _strings(table.get("scope"), f"{where}: scope")
    unknown = [item for item in scope if not is_known_scope(item)]
    if unknown:
        raise ConfigError(f"{where}: unknown scope(s) {unknown}")
    if method in SECRET_METHODS and not table.get("client_secret"):
        raise ConfigError(f"{where}: {method} needs client_secret")
    if method == "private_key_jwt" and not (table.get("jwks") or table.get("jwks_uri")):
        raise ConfigError(f"{where}: private_key_jwt needs jwks or jwks_uri")
    vendor = table.get("vendor")
    if vendor is not None and vendor not in VENDORS:
        raise ConfigError(f"{where}: vendor must be one of {VENDORS}")
    lifetime = table.get("access_token_lifetime_s")
    if lifetime is not None and (not isinstance(lifetime, int) or lifetime <= 0):
        raise ConfigError(f"{where}: access_token_lifetime_s must be a positive integer")
    return Client(
        client_id=client_id,
        token_endpoint_auth_method=method,
        redirect_uris=tuple(redirect_uris),
        scope=tuple(scope),
        name=str(table.get("name", "")),
        client_secret=table.get("client_secret"),
        jwks=table.get("jwks"),
        jwks_uri=table.get("jwks_uri"),
        launch_url=table.get("launch_url"),
        vendor=vendor,
        access_token_lifetime_s=lifetime,
        introspect_any=bool(table.get("introspect_any", False)),
        grant_types=grant_types,
    )


def _grant_types(value: Any, method: str, where: str) -> tuple[str, ...]:
    """The grants a client may use; `client_credentials` (Backend Services) only with
    private_key_jwt, as SMART Backend Services requires asymmetric client authentication."""
    if value is None:
        return DEFAULT_GRANT_TYPES
    grants = _strings(value, f"{where}: grant_types")
    unknown = sorted(set(grants) - set(GRANT_TYPES))
    if unknown:
        raise ConfigError(f"{where}: grant_types must be among {GRANT_TYPES} (got {unknown})")
    if "client_credentials" in grants and method != "private_key_jwt":
        raise ConfigError(f"{where}: client_credentials needs private_key_jwt")
    return tuple(grants)


def _strings(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{name} must be a non-empty list of strings")
    return value
