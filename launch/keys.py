"""The app's signing keys for private_key_jwt: RS384 and ES384 keys, their JWKS, rotation, storage.

Keys are made once and kept in a `KeyStorage` (the app's database, or `FileKeyStorage`); a
restart loads them. `rotate(now)` makes a new current key per algorithm and keeps the previous
one published until `retire_after` has passed, so an EHR that cached our JWKS still verifies
assertions signed just before the rotation (SMART client-confidential-asymmetric, "Key rotation").
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeyParameters, RSAKey, import_key

from launch.errors import ConfigurationError

__all__ = [
    "SIGNING_ALGS",
    "FileKeyStorage",
    "KeyRing",
    "KeyStorage",
    "MemoryKeyStorage",
    "SigningKey",
]

SIGNING_ALGS = ("RS384", "ES384")
RSA_KEY_BITS = 2048
DEFAULT_RETIRE_AFTER = timedelta(days=7)
# How long the published JWKS is served as last read before storage is read again: the JWKS URL
# is public, and each read parses every private key; another instance's rotation shows within it.
PUBLISHED_MAX_AGE_S = 30.0


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("key timestamps must be aware datetimes")
    return moment


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One private key with its algorithm, `kid` (RFC 7638 thumbprint) and lifetime stamps."""

    alg: str
    key: RSAKey | ECKey = field(repr=False)
    created_at: datetime
    retired_at: datetime | None = None

    @property
    def kid(self) -> str:
        """The key id put in the JWKS and in each assertion's header."""
        return str(self.key.kid)

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK, with `kid`, `alg` and `use`."""
        return dict(self.key.as_dict(private=False))

    def to_record(self) -> dict[str, Any]:
        """The storable form: the private JWK (kid, alg) plus ISO 8601 `created_at`/`retired_at`."""
        return {
            **self.key.as_dict(private=True),
            "created_at": self.created_at.isoformat(),
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SigningKey:
        """Rebuild a key from `to_record`'s output; ValueError/KeyError/JoseError when corrupt.

        The timestamps may be ISO 8601 text or epoch seconds.
        """
        jwk = {k: v for k, v in record.items() if k not in ("created_at", "retired_at")}
        alg = jwk.get("alg")
        if alg not in SIGNING_ALGS or jwk.get("kty") not in ("RSA", "EC"):
            raise ValueError("not an RS384 or ES384 key")
        key = import_key(jwk)
        if not isinstance(key, RSAKey | ECKey) or not key.is_private or not key.kid:
            raise ValueError("not a private key with a kid")
        retired = record.get("retired_at")
        return cls(
            alg=alg,
            key=key,
            created_at=_instant(record["created_at"]),
            retired_at=None if retired is None else _instant(retired),
        )


def _instant(value: object) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        return _aware(datetime.fromisoformat(value))
    raise ValueError("a key timestamp must be ISO 8601 text or epoch seconds")


def generate_signing_key(alg: str, now: datetime) -> SigningKey:
    """A new private key for `alg` (RSA 2048 for RS384, P-384 for ES384)."""
    parameters: KeyParameters = {"alg": alg, "use": "sig"}
    key: RSAKey | ECKey
    if alg == "RS384":
        key = RSAKey.generate_key(RSA_KEY_BITS, parameters=parameters, auto_kid=True)
    elif alg == "ES384":
        key = ECKey.generate_key("P-384", parameters=parameters, auto_kid=True)
    else:
        raise ValueError(f"signing algorithm must be one of {SIGNING_ALGS}")
    return SigningKey(alg=alg, key=key, created_at=_aware(now))


class KeyStorage(Protocol):
    """Where the key ring keeps its private keys (database rows, a file).

    Each record is a private JWK (`kty`, `kid`, `alg`, key parameters) plus `created_at` and
    `retired_at` (ISO 8601 text, or None for a current key). `load` must give back what `save`
    was given; encrypting records at rest is the storage's business.
    """

    def load(self) -> list[dict[str, Any]] | None:
        """The stored key records, or None when nothing was ever stored."""

    def save(self, records: list[dict[str, Any]]) -> None:
        """Replace the stored key records."""


class MemoryKeyStorage:
    """Key records in memory: for tests, and demos that need no persistence."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] | None = None

    def load(self) -> list[dict[str, Any]] | None:
        """The records saved last, or None."""
        return None if self.records is None else [dict(r) for r in self.records]

    def save(self, records: list[dict[str, Any]]) -> None:
        """Keep a copy of `records`."""
        self.records = [dict(r) for r in records]


class FileKeyStorage:
    """Key records in a JSON file readable by its owner only (mode 0600), replaced atomically."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def load(self) -> list[dict[str, Any]] | None:
        """The records in the file, or None when it does not exist."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as error:
            raise _storage_error(f"cannot read {self.path}: {error.strerror}") from None
        try:
            records = json.loads(text)
        except ValueError:
            raise _storage_error(f"{self.path} is not JSON") from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise _storage_error(f"{self.path} does not hold a list of key records")
        return records

    def save(self, records: list[dict[str, Any]]) -> None:
        """Write `records` to a private temporary file, then move it over the old one."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)  # in case a stale temporary file had wider permissions
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(records, handle, indent=2)
        os.replace(temporary, self.path)


def _storage_error(problem: str) -> ConfigurationError:
    return ConfigurationError("key_storage", f"Signing key storage is unusable: {problem}.")


class KeyRing:
    """The app's signing keys: one current key per algorithm, plus retired keys still published."""

    def __init__(
        self,
        storage: KeyStorage,
        keys: tuple[SigningKey, ...],
        *,
        retire_after: timedelta = DEFAULT_RETIRE_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._storage = storage
        self._keys = keys
        self.retire_after = retire_after
        self._lock = threading.Lock()
        self._clock = clock
        self._loaded_at = clock()

    @classmethod
    def load_or_create(
        cls,
        storage: KeyStorage,
        *,
        now: datetime,
        retire_after: timedelta = DEFAULT_RETIRE_AFTER,
    ) -> KeyRing:
        """The stored keys; a key is generated (and saved) only for an algorithm that has none."""
        keys = _parse(storage.load() or [])
        missing = [alg for alg in SIGNING_ALGS if not _current(keys, alg)]
        if missing:
            keys += tuple(generate_signing_key(alg, now) for alg in missing)
            storage.save([key.to_record() for key in keys])
        return cls(storage, keys, retire_after=retire_after)

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        """Every key held, current and retired."""
        return self._keys

    def signing_key(self, alg: str) -> SigningKey:
        """The current key for `alg` (RS384 or ES384)."""
        key = _current(self._keys, alg)
        if key is None:
            raise ValueError(f"no current signing key for {alg!r}")
        return key

    def public_jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JWKS to serve at `/.well-known/jwks.json`: every held key's public half."""
        return {"keys": [key.public_jwk() for key in self._keys]}

    def published_jwks(
        self, max_age_s: float = PUBLISHED_MAX_AGE_S
    ) -> dict[str, list[dict[str, Any]]]:
        """The public JWKS, read again from storage once the last read is `max_age_s` old."""
        if self._clock() - self._loaded_at >= max_age_s:
            self.reload()
        return self.public_jwks()

    def rotate(self, now: datetime) -> None:
        """Retire the current keys, make new ones, and drop keys retired over `retire_after` ago."""
        _aware(now)
        with self._lock:
            kept = self._unexpired(now)
            retired = tuple(k if k.retired_at else replace(k, retired_at=now) for k in kept)
            fresh = tuple(generate_signing_key(alg, now) for alg in SIGNING_ALGS)
            self._store(retired + fresh)

    def prune(self, now: datetime) -> None:
        """Drop keys retired more than `retire_after` before `now` (no new keys)."""
        _aware(now)
        with self._lock:
            kept = self._unexpired(now)
            if len(kept) != len(self._keys):
                self._store(kept)

    def reload(self) -> None:
        """Read the keys again from storage (another instance may have rotated them)."""
        records = self._storage.load()
        loaded_at = self._clock()
        if records:
            keys = _parse(records)
            with self._lock:
                self._keys = keys
                self._loaded_at = loaded_at

    def _unexpired(self, now: datetime) -> tuple[SigningKey, ...]:
        return tuple(
            k for k in self._keys if k.retired_at is None or now - k.retired_at < self.retire_after
        )

    def _store(self, keys: tuple[SigningKey, ...]) -> None:
        self._storage.save([key.to_record() for key in keys])
        self._keys = keys


def _current(keys: tuple[SigningKey, ...], alg: str) -> SigningKey | None:
    candidates = [k for k in keys if k.alg == alg and k.retired_at is None]
    return max(candidates, key=lambda k: k.created_at, default=None)


def _parse(records: list[dict[str, Any]]) -> tuple[SigningKey, ...]:
    try:
        return tuple(SigningKey.from_record(record) for record in records)
    except (KeyError, TypeError, ValueError, JoseError) as error:
        raise _storage_error(f"a stored key record is invalid ({type(error).__name__})") from None
