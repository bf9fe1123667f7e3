"""The chart's CDS Hooks client key (ES384): signs each call's JWT, published as a JWKS."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

CDS_ALG = "ES384"
# CDS Hooks 2.0: `exp` at most 5 minutes after issue; the chart's JWTs live one minute.
JWT_LIFETIME_S = 60


@dataclass(frozen=True, slots=True)
class CdsSigner:
    """A fresh P-384 key per sandbox run; the service reads its public half by JWKS URL."""

    iss: str
    key: ECKey

    @classmethod
    def generate(cls, iss: str) -> CdsSigner:
        key = ECKey.generate_key("P-384", parameters={"alg": CDS_ALG, "use": "sig"})
        key.ensure_kid()
        return cls(iss, key)

    @property
    def kid(self) -> str:
        return str(self.key.kid)

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [{**self.key.as_dict(private=False), "alg": CDS_ALG, "use": "sig"}]}

    def token(self, aud: str, *, now: float | None = None, forged: bool = False) -> str:
        """The JWT of one call to `aud` (the URL called); `forged` signs it with a key the
        chart never published, under the published `kid`, so the service must refuse it."""
        moment = int(now if now is not None else time.time())
        claims = {
            "iss": self.iss,
            "sub": self.iss,
            "aud": aud,
            "iat": moment,
            "exp": moment + JWT_LIFETIME_S,
            "jti": str(uuid.uuid4()),
        }
        header = {"alg": CDS_ALG, "typ": "JWT", "kid": self.kid}
        key = ECKey.generate_key("P-384") if forged else self.key
        return jwt.encode(header, claims, key, algorithms=[CDS_ALG])
