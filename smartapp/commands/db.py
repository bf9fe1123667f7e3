"""`smartapp db upgrade|downgrade|current|purge`: migrate the app's database with Alembic, and
delete the rows kept past their retention."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from launch import ConfigurationError, load_issuers
from launch.urls import normalise_iss
from smartapp.commands.evaluate import UsageError
from smartapp.db import Database
from smartapp.db.migrations import MigrationRefused, alembic_config
from smartapp.db.readiness import migration_head
from smartapp.db.retention import purge_past_retention
from smartapp.settings import SettingsError, load_store_settings


def database_url_for(args: argparse.Namespace) -> str:
    """`--database-url` if given, else the database the app's settings name."""
    given: str | None = args.database_url
    return given or load_store_settings().database_url


def configured_issuers() -> tuple[str, ...]:
    """The issuers of SMARTAPP_ISSUERS_FILE (none when it is not set); UsageError if unreadable."""
    path = load_store_settings().issuers_file
    if path is None:
        return ()
    try:
        return tuple(issuer.iss for issuer in load_issuers(path))
    except ConfigurationError as exc:
        raise UsageError(f"SMARTAPP_ISSUERS_FILE: {exc.message}") from None


def named_issuer(value: str | None) -> str | None:
    """An issuer given on the command line, normalised as the allow-list normalises it."""
    if value is None:
        return None
    try:
        return normalise_iss(value)
    except ValueError:
        raise UsageError(f"--issuer {value!r} is not an https issuer URL") from None


def upgrade(
    url: str, revision: str = "head", *, issuers: Sequence[str] = (), issuer: str | None = None
) -> None:
    """Migrate the database up to `revision` (creating it if need be). `issuers` (the
    allow-list) and `issuer` (named by the operator) decide which EHR older rows belong to;
    MigrationRefused when that would be a guess."""
    with _database(url) as database:
        command.upgrade(alembic_config(database, issuers=issuers, issuer=issuer), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database down to `revision` (`base` drops every table)."""
    with _database(url) as database:
        command.downgrade(alembic_config(database), revision)


def current(url: str) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    with _database(url) as database, database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head() -> str:
    """The newest revision this version of the app ships."""
    head_revision = migration_head()
    if head_revision is None:
        raise RuntimeError("the app ships no migrations")
    return head_revision


def purge(url: str, now: datetime) -> str:
    """Delete what is past its retention (SMARTAPP_SESSION_RETENTION_DAYS,
    SMARTAPP_AUDIT_RETENTION_DAYS and SMARTAPP_WORKLIST_RETENTION_DAYS); one line saying what
    went and what was kept."""
    try:
        settings = load_store_settings()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    with _database(url) as database:
        purged = purge_past_retention(
            database,
            now=now,
            session_retention=settings.session_retention,
            audit_retention=settings.audit_retention,
            session_idle=settings.session_idle,
            worklist_retention=settings.worklist_retention,
        )
    return (
        f"purged {purged.sessions} launch sessions ended before"
        f" {now - settings.session_retention:%Y-%m-%d %H:%M}Z, {purged.pending_launches}"
        f" expired pending launches, {purged.audit_events} audit events before"
        f" {now - settings.audit_retention:%Y-%m-%d %H:%M}Z, {purged.cds_cards} CDS cards"
        f" answered before then, {purged.cds_jwt_ids} expired CDS JWT ids, {purged.worklist_runs}"
        f" worklist runs before {now - settings.worklist_retention:%Y-%m-%d %H:%M}Z\n"
    )


def run(args: argparse.Namespace) -> str:
    """What `smartapp db ...` prints; UsageError for a bad URL or an unreachable database."""
    url = database_url_for(args)
    try:
        if args.db_command == "purge":
            return purge(url, datetime.now(UTC))
        if args.db_command == "upgrade":
            issuer = named_issuer(args.issuer)
            upgrade(url, args.revision, issuers=configured_issuers(), issuer=issuer)
        elif args.db_command == "downgrade":
            downgrade(url, args.revision)
        revision = current(url)
    except (ArgumentError, OperationalError, ProgrammingError) as exc:
        raise UsageError(f"database {_shown(url)}: {_reason(exc)}") from None
    except MigrationRefused as exc:
        raise UsageError(f"database {_shown(url)}: {exc}") from None
    latest = head()
    state = "at head" if revision == latest else f"head is {latest}"
    return f"{revision or 'none (not migrated)'} ({state})\n"


@contextmanager
def _database(url: str) -> Iterator[Database]:
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable URL)"


def _reason(exc: Exception) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
