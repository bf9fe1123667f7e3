"""Token introspection (RFC 7662) and revocation (RFC 7009) endpoints of the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from sandbox.ehr.clients import AUTH_METHODS, Client
from sandbox.ehr.store import Store, Token

if TYPE_CHECKING:
    from sandbox.ehr.authserver import SandboxAuthorizationServer


class _TokenView:
    """An access or refresh token as the introspection and revocation endpoints see it."""

    def __init__(self, token: Token, kind: str) -> None:
        self.token = token
        self.kind = kind

    def check_client(self, client: Client) -> bool:
        return self.token.check_client(client)

    def is_expired(self) -> bool:
        if self.kind == "refresh_token":
            return not self.token.refresh_usable() and not self.token.refresh_revoked
        return self.token.is_expired()

    def is_revoked(self) -> bool:
        if self.kind == "refresh_token":
            return self.token.refresh_revoked
        return self.token.access_revoked


def _query_token(store: Store, value: str, hint: str | None) -> _TokenView | None:
    lookups: list[tuple[str, Callable[[str], Token | None]]] = [
        ("access_token", store.by_access_token),
        ("refresh_token", store.by_refresh_token),
    ]
    if hint == "refresh_token":
        lookups.reverse()
    for kind, lookup in lookups:
        token = lookup(value)
        if token is not None:
            return _TokenView(token, kind)
    return None


class SmartIntrospectionEndpoint(IntrospectionEndpoint):  # type: ignore[misc]
    """RFC 7662 introspection; a client sees its own tokens (`introspect_any` sees all)."""

    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def __init__(self, server: SandboxAuthorizationServer) -> None:
        super().__init__(server)
        self.sandbox = server

    def query_token(self, token_string: str, token_type_hint: str | None) -> _TokenView | None:
        return _query_token(self.sandbox.store, token_string, token_type_hint)

    def check_permission(self, token: _TokenView, client: Client, request: Any) -> bool:
        return client.introspect_any or token.check_client(client)

    def introspect_token(self, token: _TokenView) -> dict[str, Any]:
        item = token.token
        context = item.context
        user = context.user
        payload: dict[str, Any] = {
            "active": True,
            "scope": item.scope,
            "client_id": item.client_id,
            "token_type": "Bearer" if token.kind == "access_token" else "refresh_token",
            "iat": int(item.issued_at),
            "sub": user.user_id,
            "iss": self.sandbox.config.origin,
            "aud": self.sandbox.config.fhir_base,
            "fhirUser": f"{self.sandbox.config.fhir_base}/{user.reference}",
        }
        if token.kind == "access_token":
            payload["exp"] = int(item.issued_at + item.expires_in)
        elif item.refresh_expires_at is not None:
            payload["exp"] = int(item.refresh_expires_at)
        if context.patient:
            payload["patient"] = context.patient
        if context.encounter:
            payload["encounter"] = context.encounter
        return payload


class SmartRevocationEndpoint(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009 revocation: revoking a refresh token ends its grant's access token too."""

    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def __init__(self, server: SandboxAuthorizationServer) -> None:
        super().__init__(server)
        self.sandbox = server

    def query_token(self, token_string: str, token_type_hint: str | None) -> _TokenView | None:
        return _query_token(self.sandbox.store, token_string, token_type_hint)

    def revoke_token(self, token: _TokenView, request: Any) -> None:
        token.token.access_revoked = True
        if token.kind == "refresh_token":
            token.token.refresh_revoked = True
