"""Signing key storage: what the KeyRing saves it loads back, with the private parts encrypted."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from smartapp.db import SigningKeyStore

KEY_1 = {
    "kty": "EC",
    "crv": "P-384",
    "kid": "k1",
    "alg": "ES384",
    "x": "x-coordinate",
    "y": "y-coordinate",
    "d": "PRIVATE-SCALAR-d-value",
    "created_at": "2026-01-01T00:00:00+00:00",
    "retired_at": None,
}
KEY_2 = {
    "kty": "RSA",
    "kid": "k2",
    "alg": "RS384",
    "n": "modulus",
    "e": "AQAB",
    "d": "PRIVATE-EXPONENT-d-value",
    "created_at": 1_780_000_000,
    "retired_at": None,
}


def test_signing_keys_load_is_none_before_any_save(database, cipher):
    assert SigningKeyStore(database, cipher).load() is None


def test_signing_keys_round_trip_oldest_first_and_encrypted(database, cipher):
    store = SigningKeyStore(database, cipher)
    store.save([KEY_2, KEY_1])
    assert store.load() == [KEY_1, KEY_2]
    with database.engine.connect() as connection:
        stored = repr(connection.execute(text("SELECT * FROM signing_keys")).all())
    assert "PRIVATE" not in stored and "k1" in stored and "ES384" in stored


def test_signing_keys_save_replaces_the_set(database, cipher):
    store = SigningKeyStore(database, cipher)
    store.save([KEY_1, KEY_2])
    retired = {**KEY_1, "retired_at": "2026-06-01T00:00:00Z"}
    store.save([retired])
    assert store.load() == [retired]


@pytest.mark.parametrize(
    "bad",
    [
        [{**KEY_1, "kid": ""}],
        [{**KEY_1, "alg": None}],
        [{**KEY_1, "created_at": "yesterday"}],
        [{**KEY_1, "created_at": "2026-01-01T00:00:00"}],  # no offset
        [{**KEY_1, "created_at": None}],
        [KEY_1, KEY_1],
    ],
)
def test_signing_keys_refuse_malformed_keys(database, cipher, bad):
    store = SigningKeyStore(database, cipher)
    with pytest.raises(ValueError):
        store.save(bad)
    assert store.load() is None
