"""The `smartapp` command: `evaluate` a FHIR Bundle, `worklist` a Bulk Data export, and more
(`cds`, `db`, `registry`, `registration`, `keys`).

Exit 0 when it evaluated (whatever the clinical result), 2 for unusable input with a one-line
reason on stderr and nothing on stdout. No traceback reaches the user.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from smartapp.commands.evaluate import UsageError, run_evaluate, run_evaluate_stream
from smartapp.commands.progress import Progress


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments on one line, as every other unusable input."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The command line, one sub-command per job."""
    parser = _Parser(prog="smartapp", description="Clozapine monitoring SMART on FHIR app.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    evaluate = commands.add_parser(
        "evaluate", help="evaluate the patients in a FHIR Bundle (JSON; NDJSON for several)"
    )
    evaluate.add_argument("bundle", help="FHIR R4 Bundle file, or - for standard input")
    evaluate.add_argument("--as-of", help="evaluation date YYYY-MM-DD (default: today)")
    evaluate.add_argument("--policy", help="policy id (default: the policy in force on --as-of)")
    evaluate.add_argument("--registry", help="program registry JSON file")
    evaluate.add_argument("--timezone", help="IANA time zone that dates collection times")
    evaluate.add_argument("--config", help="organisation settings file (TOML)")
    evaluate.add_argument("--format", choices=("json", "text"), default="json")
    evaluate.add_argument(
        "--ndjson",
        action="store_true",
        help="the input holds one Bundle per line (streamed; a population of any size)",
    )
    _add_worklist_command(commands)
    _add_cds_command(commands)
    _add_database_commands(commands)
    return parser


def _add_worklist_command(commands: argparse._SubParsersAction[_Parser]) -> None:
    """`smartapp worklist EXPORT` (its modules load only when it runs); `smartapp worklist
    fetch` has its own parser (build_fetch_parser)."""
    worklist = commands.add_parser(
        "worklist",
        help="evaluate every patient of a Bulk Data export, most urgent first"
        " (`worklist fetch --issuer NAME`: export from the EHR and store the run)",
    )
    worklist.add_argument("export", help="folder of Bulk Data *.ndjson files, or its manifest JSON")
    worklist.add_argument("--as-of", help="evaluation date YYYY-MM-DD (default: today)")
    worklist.add_argument("--registry", help="program registry JSON file")
    worklist.add_argument("--timezone", help="IANA time zone that dates collection times")
    worklist.add_argument("--config", help="organisation settings file (TOML)")
    worklist.add_argument("--format", choices=("ndjson", "csv", "text"), default="ndjson")
    worklist.set_defaults(policy=None)  # the policy in force on --as-of, as evaluate's default


def _add_cds_command(commands: argparse._SubParsersAction[_Parser]) -> None:
    """`smartapp cds HOOK_REQUEST.json`: the CDS Hooks service's answer, offline."""
    cds = commands.add_parser(
        "cds", help="print the CDS Hooks response to a hook request whose prefetch holds the data"
    )
    cds.add_argument("request", help="CDS Hooks request JSON file, or - for standard input")
    cds.add_argument("--as-of", help="evaluation date YYYY-MM-DD (default: today)")
    cds.add_argument("--config", help="organisation settings file (TOML)")
    cds.add_argument("--registry", help="program registry JSON file")
    cds.set_defaults(policy=None, timezone=None, format="json")


def _add_database_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    """`smartapp db ...` and `smartapp registry ...` (their modules load only when they run)."""
    url_help = "database URL (default: $SMARTAPP_DATABASE_URL, else sqlite:///var/smartapp.db)"
    db = commands.add_parser("db", help="migrate the app's database (Alembic)")
    db_commands = db.add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    upgrade = db_commands.add_parser("upgrade", help="migrate up (default: to the newest)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.add_argument(
        "--issuer",
        help="the EHR (iss) that registry records and audit events stored before records were"
        " kept per EHR belong to (default: the only issuer of $SMARTAPP_ISSUERS_FILE)",
    )
    downgrade = db_commands.add_parser("downgrade", help="migrate down (base: drop everything)")
    downgrade.add_argument("revision")
    current = db_commands.add_parser("current", help="print the revision the database is at")
    purge = db_commands.add_parser(
        "purge",
        help="delete ended sessions, expired launches, audit events and worklist runs past their"
        " retention ($SMARTAPP_SESSION_RETENTION_DAYS, $SMARTAPP_AUDIT_RETENTION_DAYS,"
        " $SMARTAPP_WORKLIST_RETENTION_DAYS)",
    )
    registry = commands.add_parser("registry", help="import or export the program registry")
    registry_commands = registry.add_subparsers(
        dest="registry_command", required=True, parser_class=_Parser
    )
    load = registry_commands.add_parser("import", help="merge a registry JSON file")
    load.add_argument("file", help="registry JSON file (the shape --registry reads)")
    load.add_argument("--actor", help="who is importing, for the audit trail")
    dump = registry_commands.add_parser("export", help="write one EHR's registry as JSON")
    dump.add_argument("-o", "--output", help="file to write (default: standard output)")
    issuer_help = (
        'the EHR (iss) whose references the records are (default: the file\'s "issuer",'
        " else the only issuer of $SMARTAPP_ISSUERS_FILE)"
    )
    for command in (load, dump):
        command.add_argument("--issuer", help=issuer_help)
    registration = commands.add_parser(
        "registration", help="print what an EHR team registers the app with, for one issuer"
    )
    registration.add_argument(
        "--issuer", help="the issuer's name or iss (default: the only one of the issuers file)"
    )
    keys = commands.add_parser("keys", help="show or rotate the app's private_key_jwt keys")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True, parser_class=_Parser)
    show = keys_commands.add_parser("show", help="list the keys (created on first use)")
    rotate = keys_commands.add_parser("rotate", help="new current keys; old ones kept published")
    for command in (upgrade, downgrade, current, purge, load, dump, show, rotate):
        command.add_argument("--database-url", help=url_help)


def build_fetch_parser() -> argparse.ArgumentParser:
    """`smartapp worklist fetch` (EXPORT is then a folder; name one called fetch ./fetch)."""
    from smartapp.commands.worklist_fetch import add_fetch_arguments

    parser = _Parser(
        prog="smartapp worklist fetch",
        description="Export the issuer's patients (SMART Backend Services, Bulk Data), evaluate"
        " them and store the run; run it from a scheduler.",
    )
    add_fetch_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `smartapp` console script."""
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        if words[:2] == ["worklist", "fetch"]:
            from smartapp.commands.worklist_fetch import run_fetch

            return run_fetch(build_fetch_parser().parse_args(words[2:]))
        args = build_parser().parse_args(words)
        if args.command == "evaluate" and args.ndjson:
            progress = Progress.for_file(args.bundle, sys.stderr)
            counts = run_evaluate_stream(args, sys.stdout.write, progress)
            return 0 if counts.evaluated else 2  # 2 only when no line was usable
        if args.command == "evaluate":
            sys.stdout.write(run_evaluate(args))
            return 0
        if args.command == "cds":  # imported here: evaluate never needs the CDS modules
            from smartapp.commands.cds import run_cds

            sys.stdout.write(run_cds(args))
            return 0
        if args.command == "worklist":  # imported here: evaluate never needs the spill store
            from smartapp.commands.worklist import run_worklist

            return run_worklist(args, sys.stdout.write)
        # Imported only here: they load SQLAlchemy and Alembic, which evaluate never needs.
        if args.command == "db":
            from smartapp.commands.db import run as run_db

            sys.stdout.write(run_db(args))
            return 0
        if args.command == "registry":
            from smartapp.commands.registry import run as run_registry

            sys.stdout.write(run_registry(args))
            return 0
        if args.command == "registration":
            from smartapp.commands.registration import run as run_registration

            sys.stdout.write(run_registration(args))
            return 0
        if args.command == "keys":
            from smartapp.commands.keys import run as run_keys

            sys.stdout.write(run_keys(args))
            return 0
        raise UsageError(f"unknown command {args.command!r}")
    except UsageError as exc:
        sys.stderr.write(f"smartapp: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last guard: one line, never a traceback
        sys.stderr.write(f"smartapp: internal error ({type(exc).__name__}); please report it\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
