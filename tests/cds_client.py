"""A test CDS client: its own key pair, the JWTs it signs, and its issuers-file entry."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

CLIENT_ISS = "https://ehr.example.org/cds-client"


@dataclass
class CdsClient:
    """Signs CDS Hooks JWTs (CDS Hooks 2.0 "Trusting CDS Clients") with its own key."""

    iss: str = CLIENT_ISS
    alg: str = "ES384"
    kid: str = "cds-key-1"
    key: Any = field(default=None)

    def __post_init__(self) -> None:
        if self.key is None:
            if self.alg == "ES384":
                self.key = ECKey.generate_key("P-384", parameters={"kid": self.kid})
            else:
                self.key = RSAKey.generate_key(2048, parameters={"kid": self.kid})

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK, with its kid and alg."""
        return {**self.key.as_dict(private=False), "kid": self.kid, "alg": self.alg, "use": "sig"}

    def jwks(self) -> dict[str, Any]:
        """The client's JWKS."""
        return {"keys": [self.public_jwk()]}

    def toml(self, fhir_server: str | None = None) -> str:
        """The issuer-table lines that configure this client with its inline JWKS."""
        keys = ", ".join(
            "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in jwk.items()) + " }"
            for jwk in self.jwks()["keys"]
        )
        lines = [f'cds_client_iss = "{self.iss}"', f"cds_jwks = {{ keys = [{keys}] }}"]
        if fhir_server:
            lines.append(f'cds_fhir_server = "{fhir_server}"')
        return "\n".join(lines) + "\n"

    def token(
        self,
        aud: str,
        *,
        header: dict[str, Any] | None = None,
        key: Any = None,
        now: float | None = None,
        **claims: Any,
    ) -> str:
        """A signed JWT for `aud`; `claims` override (None removes one)."""
        moment = int(now if now is not None else time.time())
        body: dict[str, Any] = {
            "iss": self.iss,
            "sub": "ehr-client",
            "aud": aud,
            "exp": moment + 300,
            "iat": moment,
            "jti": str(uuid.uuid4()),
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(
            {"alg": self.alg, "typ": "JWT", "kid": self.kid, **(header or {})},
            body,
            key or self.key,
            algorithms=[(header or {}).get("alg", self.alg)],
        )

    def headers(self, aud: str, **claims: Any) -> dict[str, str]:
        """The Authorization header of one request."""
        return {"Authorization": f"Bearer {self.token(aud, **claims)}"}
