"""Alembic migrations of the app's database, configured in code (no alembic.ini at runtime)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from smartapp.db import Database

SCRIPT_LOCATION = Path(__file__).resolve().parent


def alembic_config(database: Database | None = None) -> Config:
    """An Alembic Config running this package's scripts against `database`.

    The Database travels in `attributes`, not in the ini options, so a password with `%` in
    its URL needs no escaping and the app's connection settings (SQLite pragmas) apply.
    """
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if database is not None:
        config.attributes["database"] = database
    return config
