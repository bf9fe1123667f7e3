"""`private_key_jwt` client authentication as SMART's asymmetric client auth profiles it.

RS384 or ES384 assertions, verified against the client's inline JWKS or its JWKS URL; `aud` is
the token endpoint, `exp` at most five minutes ahead, and a `jti` is never accepted twice.
SMART App Launch 2.2, "Client Authentication: Asymmetric":
https://hl7.org/fhir/smart-app-launch/client-confidential-asymmetric.html
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import JoseError

from sandbox.ehr.clients import Client

if TYPE_CHECKING:
    from sandbox.ehr.authserver import SandboxAuthorizationServer

ASSERTION_ALGORITHMS = ("RS384", "ES384")
ASSERTION_MAX_LIFETIME_S = 300  # SMART: exp no more than five minutes in the future
CLOCK_LEEWAY_S = 5


class SmartClientAssertion(JWTBearerClientAssertion):  # type: ignore[misc]
    """`private_key_jwt` as SMART asymmetric client authentication profiles it."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, server: SandboxAuthorizationServer) -> None:
        super().__init__(validate_jti=True, leeway=CLOCK_LEEWAY_S)
        self.server = server

    def get_audiences(self) -> list[str]:
        return [self.server.token_url]

    def resolve_client_public_key(self, client: Client) -> Any:
        try:
            return self.server.clients.public_keys(client)
        except Exception as error:  # any fetch or parse failure is the client's
            raise InvalidClientError(description="The client JWKS could not be read") from error

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> Any:
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=list(ASSERTION_ALGORITHMS))
        except JoseError as error:
            raise InvalidClientError(description="Invalid client assertion signature") from error
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims: Any) -> None:
        super().verify_claims(claims)
        exp = claims.get("exp")
        if not isinstance(exp, int | float):
            raise InvalidClientError(description="Invalid claim: exp")
        if exp > time.time() + ASSERTION_MAX_LIFETIME_S + CLOCK_LEEWAY_S:
            raise InvalidClientError(description="exp is more than five minutes ahead")

    def validate_jti(self, claims: Any, jti: str) -> bool:
        return self.server.store.use_jti(str(claims["sub"]), str(jti), float(claims["exp"]))
