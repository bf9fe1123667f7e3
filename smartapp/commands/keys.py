"""`smartapp keys show|rotate`: the app's private_key_jwt signing keys, kept in its database.

Rotation makes new RS384 and ES384 keys current and keeps the old ones published (so EHRs
that cached the JWKS still verify) until they are past their overlap; run it from a scheduler.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from launch import ConfigurationError, KeyRing
from smartapp.commands.db import database_url_for
from smartapp.commands.evaluate import UsageError
from smartapp.db import Database, SecretCipher, SecretKeyError, SigningKeyStore
from smartapp.settings import SettingsError, load_store_settings


def run(args: argparse.Namespace) -> str:
    """Show or rotate the keys; one line per key (kid, algorithm, created, retired)."""
    try:
        token_key = load_store_settings().required_token_key()
    except SettingsError as error:
        raise UsageError(str(error)) from None
    database = Database(database_url_for(args))
    now = datetime.now(UTC)
    try:
        ring = KeyRing.load_or_create(SigningKeyStore(database, SecretCipher(token_key)), now=now)
        if args.keys_command == "rotate":
            ring.rotate(now)
    except (ConfigurationError, SecretKeyError) as error:
        raise UsageError(str(error)) from None
    finally:
        database.dispose()
    return "".join(
        f"{key.kid} {key.alg} created {key.created_at:%Y-%m-%d %H:%M}Z"
        f"{f' retired {key.retired_at:%Y-%m-%d %H:%M}Z' if key.retired_at else ' current'}\n"
        for key in sorted(ring.keys, key=lambda k: (k.created_at, k.alg))
    )
