"""The app's private_key_jwt signing keys, stored encrypted (the launch client's key storage)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select

from smartapp.db.crypto import SecretCipher
from smartapp.db.database import Database
from smartapp.db.models import SigningKeyRow


class SigningKeyStore:
    """`load()` / `save(keys)` of private JWK dicts, each with kid, alg, created_at, retired_at.

    The whole JWK is kept encrypted, so `load()` gives back exactly what `save()` was given;
    kid, alg and the dates are also columns, for an operator to read. `created_at` and
    `retired_at` may be ISO 8601 text or epoch seconds; `retired_at` may be None.
    """

    def __init__(self, database: Database, cipher: SecretCipher) -> None:
        self._database = database
        self._cipher = cipher

    def load(self) -> list[dict[str, Any]] | None:
        """Every stored key, oldest first; None when none was ever saved."""
        with self._database.transaction() as session:
            rows = session.execute(
                select(SigningKeyRow).order_by(SigningKeyRow.created_at, SigningKeyRow.kid)
            ).scalars()
            keys = [json.loads(self._cipher.decrypt(row.private_jwk_encrypted)) for row in rows]
        return keys or None

    def save(self, keys: list[dict[str, Any]]) -> None:
        """Make the stored set exactly `keys` (added, updated, removed) in one transaction."""
        rows = [self._row(jwk) for jwk in keys]
        kids = [row.kid for row in rows]
        if len(set(kids)) != len(kids):
            raise ValueError("two signing keys share a kid")
        with self._database.transaction() as session:
            session.execute(delete(SigningKeyRow).where(SigningKeyRow.kid.not_in(kids)))
            for row in rows:
                session.merge(row)

    def _row(self, jwk: dict[str, Any]) -> SigningKeyRow:
        kid, alg = jwk.get("kid"), jwk.get("alg")
        if not isinstance(kid, str) or not kid or not isinstance(alg, str) or not alg:
            raise ValueError("a signing key needs a 'kid' and an 'alg'")
        return SigningKeyRow(
            kid=kid,
            alg=alg,
            private_jwk_encrypted=self._cipher.encrypt(json.dumps(jwk, sort_keys=True)),
            created_at=_instant(jwk.get("created_at"), f"key {kid} created_at"),
            retired_at=(
                None
                if jwk.get("retired_at") is None
                else _instant(jwk["retired_at"], f"key {kid} retired_at")
            ),
        )


def _instant(value: Any, what: str) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{what} is not an ISO 8601 date-time: {value!r}") from None
    else:
        raise ValueError(f"{what} must be ISO 8601 text or epoch seconds")
    if parsed.tzinfo is None:
        raise ValueError(f"{what} has no time zone offset")
    return parsed
