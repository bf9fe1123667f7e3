"""`smartapp registry import FILE` and `smartapp registry export [-o FILE]`, one EHR at a time."""

from __future__ import annotations

import argparse
import getpass
import json
from pathlib import Path
from typing import Any

from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from clozapine import RegistryFormatError
from smartapp.commands.db import configured_issuers, database_url_for, named_issuer
from smartapp.commands.evaluate import UsageError
from smartapp.db import Database
from smartapp.db.registry_store import RegistryStore

# The registry document's optional field naming the EHR its references belong to.
ISSUER_FIELD = "issuer"


def run(args: argparse.Namespace) -> str:
    """What `smartapp registry ...` prints on stdout; UsageError for unusable input."""
    given = named_issuer(args.issuer)
    configured = configured_issuers()
    database = database_for(database_url_for(args))
    try:
        store = RegistryStore(database)
        if args.registry_command == "import":
            document = _read(args.file)
            iss = _issuer_of(given, _named_in(document, args.file), configured)
            return _import(store, iss, args.file, document, args.actor or _default_actor())
        return _export(store, _issuer_of(given, None, configured), args.output)
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


def _issuer_of(given: str | None, in_file: str | None, configured: tuple[str, ...]) -> str:
    """The EHR the records are of: `--issuer`, else the file's `issuer`, else the only issuer
    of SMARTAPP_ISSUERS_FILE. UsageError when they disagree, or when it would be a guess."""
    if given and in_file and given != in_file:
        raise UsageError(f"--issuer {given} but the registry file names issuer {in_file}")
    chosen = given or in_file
    if chosen is not None:
        if configured and chosen not in configured:
            raise UsageError(
                f"issuer {chosen} is not in SMARTAPP_ISSUERS_FILE ({', '.join(configured)})"
            )
        return chosen
    if len(configured) == 1:
        return configured[0]
    known = f" (SMARTAPP_ISSUERS_FILE lists {', '.join(configured)})" if configured else ""
    raise UsageError(
        "the registry is kept per EHR: name the EHR with --issuer <iss>"
        f' or an "{ISSUER_FIELD}" field in the registry file{known}'
    )


def _read(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read registry file {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise UsageError(f"registry file {path} is not valid JSON: {exc}") from None


def _named_in(document: Any, path: str) -> str | None:
    """The file's `issuer`, normalised; UsageError when it is there but not an issuer URL."""
    if not isinstance(document, dict) or document.get(ISSUER_FIELD) is None:
        return None
    value = document[ISSUER_FIELD]
    if not isinstance(value, str):
        raise UsageError(f"registry file {path} is malformed: '{ISSUER_FIELD}' is not text")
    try:
        return named_issuer(value)
    except UsageError:
        raise UsageError(
            f"registry file {path} is malformed: '{ISSUER_FIELD}' is not an https issuer URL"
        ) from None


def _import(store: RegistryStore, iss: str, path: str, document: Any, actor: str) -> str:
    try:
        summary = store.import_json(iss, document, actor=actor)
    except RegistryFormatError as exc:
        raise UsageError(f"registry file {path} is malformed: {exc}") from None
    return (
        f"registry import ({iss}): {summary.created} created, {summary.updated} updated, "
        f"{summary.unchanged} unchanged\n"
    )


def _export(store: RegistryStore, iss: str, output: str | None) -> str:
    document = {ISSUER_FIELD: iss, **store.export(iss)}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
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
