"""The SMART authorization server, built on Authlib's Flask OAuth 2 server.

Grants: authorization code with PKCE S256 required (plain refused) and OpenID Connect id_tokens,
refresh tokens for `offline_access` / `online_access` (a refresh answers with a new id_token only
under the faults that reshape one), and client credentials for Backend Services (`backend.py`).
Client authentication: none (public),
client secret, and `private_key_jwt` (`assertion.py`). Introspection and revocation:
`token_endpoints.py`.
SMART App Launch 2.2, "App Launch": https://hl7.org/fhir/smart-app-launch/app-launch.html
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from authlib.common.security import generate_token
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Request, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode
from joserfc import jwt

from sandbox.ehr.assertion import SmartClientAssertion
from sandbox.ehr.backend import SYSTEM_CONTEXT, BackendServicesGrant
from sandbox.ehr.clients import AUTH_METHODS, Client, ClientRegistry
from sandbox.ehr.config import SandboxConfig
from sandbox.ehr.faults import (
    OTHER_USER,
    SIXTY_SECOND_LIFETIME_S,
    FaultKind,
    FaultRegistry,
    Surface,
)
from sandbox.ehr.keys import SIGNING_ALG, SigningKey
from sandbox.ehr.scopes import split_scope
from sandbox.ehr.store import (
    AUTHORIZATION_CODE_LIFETIME_S,
    ONLINE_REFRESH_LIFETIME_S,
    AuthorizationCode,
    LaunchContext,
    Store,
    Token,
)
from sandbox.ehr.token_endpoints import SmartIntrospectionEndpoint, SmartRevocationEndpoint

REFRESH_SCOPES = frozenset({"offline_access", "online_access"})


class SandboxAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's Flask server wired to the sandbox's clients, store, keys and faults."""

    def __init__(
        self,
        config: SandboxConfig,
        clients: ClientRegistry,
        store: Store,
        faults: FaultRegistry,
        signing_key: SigningKey,
    ) -> None:
        super().__init__()
        self.config = config
        self.clients = clients
        self.store = store
        self.faults = faults
        self.signing_key = signing_key
        self._query_client = clients.get
        self._save_token = self._store_token
        self.register_client_auth_method("private_key_jwt", SmartClientAssertion(self))
        self.register_grant(
            AuthorizationCodeGrant,
            [S256CodeChallenge(), SmartOpenIDCode(self), SmartLaunchRequest(self)],
        )
        self.register_grant(RefreshTokenGrant)
        self.register_grant(BackendServicesGrant)
        self.register_endpoint(SmartIntrospectionEndpoint(self))
        self.register_endpoint(SmartRevocationEndpoint(self))

    def create_bearer_token_generator(self, config: Any) -> Any:
        # Authlib's init_app registers this as the default generator.
        return self._generate_token

    @property
    def token_url(self) -> str:
        return f"{self.config.origin}/auth/token"

    def _generate_token(
        self,
        grant_type: str,
        client: Client,
        user: LaunchContext | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        lifetime = expires_in or client.access_token_lifetime_s
        launch = user.launch_id if isinstance(user, LaunchContext) else None
        if self.client_fault(FaultKind.SIXTY_SECOND_TOKENS, client.get_client_id(), launch):
            lifetime = SIXTY_SECOND_LIFETIME_S
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": generate_token(42),
            "expires_in": lifetime or self.config.access_token_lifetime_s,
            "scope": scope or "",
        }
        if include_refresh_token and REFRESH_SCOPES & set(split_scope(scope)):
            token["refresh_token"] = generate_token(48)
        return token

    def _store_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        refresh_expires_at = None
        if "offline_access" not in split_scope(token["scope"]):
            refresh_expires_at = time.time() + ONLINE_REFRESH_LIFETIME_S
        self.store.add_token(
            Token(
                access_token=token["access_token"],
                client_id=request.client.get_client_id(),
                scope=token["scope"],
                context=request.user or SYSTEM_CONTEXT,
                expires_in=token["expires_in"],
                refresh_token=token.get("refresh_token"),
                refresh_expires_at=refresh_expires_at,
            )
        )

    def client_fault(self, kind: FaultKind, client_id: str | None, launch: str | None) -> bool:
        return self.faults.take((kind,), on=None, client_id=client_id, launch=launch) is not None

    def refreshed_id_token(self, client_id: str, context: LaunchContext) -> str | None:
        """The id_token a refresh answers with under a refresh id_token fault, else None."""
        launch = context.launch_id
        no_aud = self.client_fault(FaultKind.REFRESH_ID_TOKEN_NO_AUD, client_id, launch)
        other = self.client_fault(FaultKind.REFRESH_ID_TOKEN_OTHER_USER, client_id, launch)
        if not (no_aud or other):
            return None
        user = f"Practitioner/{OTHER_USER}" if other else context.user.reference
        issued = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.config.origin,
            "sub": user.rsplit("/", 1)[-1],
            "iat": issued,
            "exp": issued + 300,
            "fhirUser": f"{self.config.fhir_base}/{user}",
        }
        if not no_aud:
            claims["aud"] = client_id
        header = {"alg": SIGNING_ALG, "kid": self.signing_key.kid}
        return jwt.encode(header, claims, self.signing_key.key)

    def http_fault(self, client_id: str | None, launch: str | None) -> Any:
        """A rate-limit, unavailable or server-error fault set on the token endpoint, if any."""
        kinds = (FaultKind.RATE_LIMIT, FaultKind.UNAVAILABLE, FaultKind.SERVER_ERROR)
        return self.faults.take(kinds, on=Surface.TOKEN, client_id=client_id, launch=launch)


def _server(grant: Any) -> SandboxAuthorizationServer:
    server: SandboxAuthorizationServer = grant.server
    return server


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        _server(self).store.add_code(
            AuthorizationCode(
                code=code,
                client_id=request.client.get_client_id(),
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                context=request.user,
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                nonce=data.get("nonce"),
                auth_time=int(time.time()),
                expires_at=time.time() + AUTHORIZATION_CODE_LIFETIME_S,
            )
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        return _server(self).store.get_code(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        _server(self).store.delete_code(authorization_code.code)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> LaunchContext:
        return authorization_code.context

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        status, token, headers = super().create_token_response()
        _add_launch_context(token, self.request.user)
        return status, token, headers


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotate: each refresh token is used once

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        token = _server(self).store.by_refresh_token(refresh_token)
        if token is None or not token.refresh_usable():
            return None
        if _server(self).client_fault(
            FaultKind.REFRESH_REVOKED, token.client_id, token.context.launch_id
        ):
            return None
        return token

    def authenticate_user(self, refresh_token: Token) -> LaunchContext:
        return refresh_token.context

    def revoke_old_credential(self, refresh_token: Token) -> None:
        refresh_token.refresh_revoked = True

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        status, token, headers = super().create_token_response()
        _add_launch_context(token, self.request.user)
        client_id = self.request.client.get_client_id()
        id_token = _server(self).refreshed_id_token(client_id, self.request.user)
        if id_token is not None:
            token["id_token"] = id_token
        return status, token, headers


def _add_launch_context(token: dict[str, Any], context: LaunchContext) -> None:
    """SMART launch context parameters beside the access token."""
    if context.patient:
        token["patient"] = context.patient
    if context.encounter:
        token["encounter"] = context.encounter
    if context.launch_id:  # EHR launch: the EHR shows its own banner, or asks the app to
        token["need_patient_banner"] = context.need_patient_banner
    if context.smart_style_url:
        token["smart_style_url"] = context.smart_style_url


class S256CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE as SMART 2.x requires it: a challenge on every request, S256 only."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def __init__(self) -> None:
        super().__init__(required=True)

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("code_challenge is required (PKCE with S256)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing code_verifier")
        super().validate_code_verifier(grant, result)


class SmartLaunchRequest:
    """SMART checks on the authorization request: `aud` names this FHIR server, `launch` is live."""

    def __init__(self, server: SandboxAuthorizationServer) -> None:
        self.server = server

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_validate_authorization_request_payload", self.validate)

    def validate(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        aud = (data.get("aud") or "").rstrip("/")
        if not aud:
            raise InvalidRequestError("aud is required: the FHIR base URL of this server")
        if aud != self.server.config.fhir_base:
            raise InvalidRequestError("aud does not name this FHIR server")
        launch_value = data.get("launch")
        if launch_value:
            launch = self.server.store.get_launch(launch_value)
            client_id = grant.request.client.get_client_id()
            if launch is None or launch.client_id not in (None, client_id):
                raise InvalidRequestError("Unknown or expired launch")
        elif "launch" in split_scope(grant.request.scope):
            raise InvalidRequestError("The launch scope needs the launch parameter (EHR launch)")


class SmartOpenIDCode(OpenIDCode):  # type: ignore[misc]
    """id_tokens for `openid fhirUser`, signed with the sandbox key (its JWKS is published)."""

    def __init__(self, server: SandboxAuthorizationServer) -> None:
        super().__init__(require_nonce=False)
        self.server = server

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return self.server.store.nonce_used(request.payload.client_id, nonce)

    def resolve_client_private_key(self, client: Client) -> Any:
        return self.server.signing_key.key

    def get_client_algorithm(self, client: Client) -> str:
        return SIGNING_ALG

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": SIGNING_ALG, "kid": self.server.signing_key.kid}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.server.config.origin, "aud": [client.get_client_id()]}

    def generate_user_info(self, user: LaunchContext, scope: str) -> dict[str, Any]:
        info: dict[str, Any] = {"sub": user.user.user_id}
        if "fhirUser" in split_scope(scope):
            info["fhirUser"] = f"{self.server.config.fhir_base}/{user.user.reference}"
        return info
