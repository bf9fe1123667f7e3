"""SMART Backend Services: the `client_credentials` grant for `system/` scopes.

SMART App Launch 2.2, "Backend Services" (https://hl7.org/fhir/smart-app-launch/
backend-services.html): the client authenticates with a `private_key_jwt` assertion only
(checked by assertion.py: signature against its registered JWKS, `aud` the token endpoint, `exp`
at most five minutes ahead, `jti` never reused); every scope asked for must be a `system/`
resource scope the client registered; no refresh token is issued.
"""

from __future__ import annotations

from typing import ClassVar

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidScopeError

from sandbox.ehr.scopes import parse_resource_scope, split_scope
from sandbox.ehr.store import LaunchContext, User

# The context of a token issued to a system: no user, no patient.
SYSTEM_CONTEXT = LaunchContext(user=User(""))


class BackendServicesGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["private_key_jwt"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        requested = split_scope(self.request.payload.scope)
        if not requested:
            raise InvalidScopeError("Backend Services needs system/ scopes")
        for item in requested:
            parsed = parse_resource_scope(item)
            if parsed is None or parsed.context != "system":
                raise InvalidScopeError(f"Only system/ scopes are granted here, not {item}")
        if not self.request.client.get_allowed_scope(self.request.payload.scope):
            raise InvalidScopeError("The client is not registered for these scopes")
