"""`smartapp registry import FILE` and `smartapp registry export [-o FILE]`."""

from __future__ import annotations

import argparse
import getpass
import json
from pathlib import Path

from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from clozapine import RegistryFormatError
from smartapp.commands.db import database_url_for
from smartapp.commands.evaluate import UsageError
from smartapp.db import Database
from smartapp.db.registry_store import RegistryStore


def run(args: argparse.Namespace) -> str:
    """What `smartapp registry ...` prints on stdout; UsageError for unusable input."""
    database = database_for(database_url_for(args))
    try:
        store = RegistryStore(database)
        if args.registry_command == "import":
            return _import(store, args.file, args.actor or _default_actor())
        return _export(store, args.output)
    except (OperationalError, ProgrammingError) as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise UsageError(
            f"database {database.display_url}: {reason} (run `smartapp db upgrade` first?)"
        ) from None
    finally:
        database.dispose()


def database_for(url: str) -> Database:
    """The Database of a --database-url; UsageError when the URL cannot be read."""
    try:
        return Database(url)
    except ArgumentError as exc:
        raise UsageError(f"--database-url: {exc}") from None


def _import(store: RegistryStore, path: str, actor: str) -> str:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read registry file {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise UsageError(f"registry file {path} is not valid JSON: {exc}") from None
    try:
        summary = store.import_json(document, actor=actor)
    except RegistryFormatError as exc:
        raise UsageError(f"registry file {path} is malformed: {exc}") from None
    return (
        f"registry import: {summary.created} created, {summary.updated} updated, "
        f"{summary.unchanged} unchanged\n"
    )


def _export(store: RegistryStore, output: str | None) -> str:
    text = json.dumps(store.export(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        return text
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    return ""


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"
