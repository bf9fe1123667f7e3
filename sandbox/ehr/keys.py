"""The sandbox's own signing key: signs id_tokens, published at `/.well-known/jwks.json`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joserfc.jwk import RSAKey

SIGNING_ALG = "RS256"


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A fresh RSA key per sandbox run; apps fetch the public half from the JWKS URL."""

    key: RSAKey

    @classmethod
    def generate(cls) -> SigningKey:
        key = RSAKey.generate_key(2048, parameters={"alg": SIGNING_ALG, "use": "sig"})
        key.ensure_kid()
        return cls(key)

    @property
    def kid(self) -> str:
        return str(self.key.kid)

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}
