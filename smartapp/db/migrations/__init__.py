"""Alembic migrations of the app's database, configured in code (no alembic.ini at runtime)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from alembic.config import Config

from smartapp.db import Database

SCRIPT_LOCATION = Path(__file__).resolve().parent
ISSUER_OPTION = "--issuer"


class MigrationRefused(RuntimeError):
    """A migration cannot go on without a decision only the operator can make; says which."""


def alembic_config(
    database: Database | None = None,
    *,
    issuers: Sequence[str] = (),
    issuer: str | None = None,
) -> Config:
    """An Alembic Config running this package's scripts against `database`.

    The Database travels in `attributes`, not in the ini options, so a password with `%` in
    its URL needs no escaping and the app's connection settings (SQLite pragmas) apply.
    `issuers` are the allow-listed EHRs and `issuer` the one the operator named: a migration
    that must assign existing rows to an EHR reads them (see `issuer_for_existing_rows`).
    """
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if database is not None:
        config.attributes["database"] = database
    config.attributes["issuers"] = tuple(issuers)
    config.attributes["issuer"] = issuer
    return config


def issuer_for_existing_rows(attributes: Mapping[str, Any], what: str) -> str:
    """The EHR that rows stored before scoping by issuer belong to: the one named, else the only
    one configured. MigrationRefused (saying how to name one) when that would be a guess."""
    issuers: tuple[str, ...] = tuple(attributes.get("issuers") or ())
    named = attributes.get("issuer")
    how = f"name the EHR they came from with `smartapp db upgrade {ISSUER_OPTION} <iss>`"
    if isinstance(named, str) and named:
        if issuers and named not in issuers:
            raise MigrationRefused(
                f"{ISSUER_OPTION} {named} is not an issuer of SMARTAPP_ISSUERS_FILE"
                f" ({', '.join(issuers)})"
            )
        return named
    if len(issuers) == 1:
        return issuers[0]
    if not issuers:
        raise MigrationRefused(
            f"{what} were stored before records were kept per EHR, and no issuer is configured:"
            f" set SMARTAPP_ISSUERS_FILE to the issuer allow-list, or {how}"
        )
    raise MigrationRefused(
        f"{what} were stored before records were kept per EHR, and SMARTAPP_ISSUERS_FILE lists"
        f" {len(issuers)} issuers ({', '.join(issuers)}); the upgrade will not guess which EHR"
        f" they belong to: {how}"
    )
