"""`smartapp worklist fetch --issuer NAME [--group ID]`: a scheduled run, stored in the database.

Reads the app's own settings (SMARTAPP_ISSUERS_FILE, SMARTAPP_DATABASE_URL, SMARTAPP_TOKEN_KEY
for the signing keys, SMARTAPP_ORG_CONFIG), so it evaluates as the app does. Exit 0 once the
run is stored, 1 when the fetch failed (the message says what failed and what to do; what was
downloaded is kept for the next run), 2 for unusable settings or options.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
from sqlalchemy.exc import SQLAlchemyError

from clozapine import Policy, Registry
from fhir_client import FhirClient
from fhir_client.bulk import BulkError, BulkExport
from launch import (
    AuthError,
    ConfigurationError,
    IssuerConfig,
    KeyRing,
    LaunchError,
    discover,
    load_issuers,
)
from smartapp.commands.evaluate import UsageError, prepare_run
from smartapp.commands.progress import Progress
from smartapp.commands.registration import chosen_issuer
from smartapp.db import (
    Database,
    SecretCipher,
    SecretKeyError,
    SigningKeyStore,
    WorklistRuns,
    WritebackLedger,
)
from smartapp.db.registry_store import RegistryStore
from smartapp.org_config import ConfigError, OrgConfig, load_org_config
from smartapp.settings import SettingsError, StoreSettings, command_base_url, load_store_settings
from smartapp.worklist import WorklistRun
from smartapp.worklist.fetch import (
    BackendTokens,
    FetchResult,
    bulk_settings,
    download_folder,
    export_url,
    fetch_run,
    only_fetch,
)
from smartapp.worklist.meter import Meter
from smartapp.writeback.population import PopulationTargets, PopulationWriteback, write_population

FAILED = 1


def add_fetch_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `smartapp worklist fetch`."""
    parser.add_argument("--issuer", help="the EHR's name or iss in SMARTAPP_ISSUERS_FILE")
    parser.add_argument("--group", help="the Group to export (default: Patient/$export)")
    parser.add_argument("--as-of", help="evaluation date YYYY-MM-DD (default: today)")
    parser.add_argument(
        "--registry", help="program registry JSON file (default: the app's registry)"
    )
    parser.add_argument("--timezone", help="IANA time zone (default: the organisation's)")
    parser.add_argument("--config", help="organisation settings (default: $SMARTAPP_ORG_CONFIG)")
    parser.add_argument("--database-url", help="database URL (default: the app's)")
    parser.add_argument(
        "--max-wait-hours", type=float, help="longest wait for the export (default: 6)"
    )
    parser.add_argument(
        "--writeback",
        action="store_true",
        help="write each patient's Flag or Task as the chart page does (needs write scopes)",
    )
    parser.set_defaults(policy=None, format="ndjson")


def run_fetch(args: argparse.Namespace) -> int:
    """Run one fetch; the exit status."""
    try:
        settings = load_store_settings()
    except SettingsError as error:
        raise UsageError(str(error)) from None
    if args.max_wait_hours is not None and not args.max_wait_hours > 0:
        raise UsageError("--max-wait-hours must be a positive number of hours")
    issuer = _issuer(settings, args.issuer)
    if not issuer.backend_client_id:
        raise UsageError(
            f"issuer {issuer.name!r} has no backend_client_id in SMARTAPP_ISSUERS_FILE: register"
            " the app's Backend Services client with the EHR (`smartapp registration`) first"
        )
    if args.config is None and settings.org_config_file is not None:
        args.config = str(settings.org_config_file)
    prepared = prepare_run(args)
    writeback = _writeback_plan(args) if args.writeback else None
    database = Database(args.database_url or settings.database_url)
    try:
        registry = prepared.registry or _registry(database, issuer, prepared.policy)
        run = WorklistRun(
            prepared.settings,
            prepared.as_of,
            prepared.policy,
            registry,
            observe=writeback.targets.observe if writeback else None,
        )
        result, written = _fetch(settings, issuer, args, run, database, writeback)
    except BulkError as error:
        return _failed(str(error))
    except AuthError as error:
        return _failed(
            f"{error.message.rstrip('.')}; check the Backend Services client at the EHR (its id"
            f" {issuer.backend_client_id}, the app's JWKS URL, its system/ scopes)"
        )
    except LaunchError as error:
        return _failed(f"{error.message.rstrip('.')}; check the issuer's iss and that it answers")
    except SQLAlchemyError as error:
        return _failed(
            f"the database could not be used ({type(error).__name__}); check"
            " SMARTAPP_DATABASE_URL and run `smartapp db upgrade`; a downloaded export is kept"
            " for the next run"
        )
    except (ConfigurationError, SecretKeyError) as error:
        raise UsageError(str(error)) from None
    finally:
        database.dispose()
    _say(_summary(issuer, result))
    if written is not None:
        _say(written.summary())
    return 0


@dataclass(frozen=True, slots=True)
class WritebackPlan:
    """What `--writeback` writes with: the app's URL (its Device authors the writes), the
    organisation's settings, and the targets collected as the run evaluates."""

    base_url: str
    org: OrgConfig
    targets: PopulationTargets


def _writeback_plan(args: argparse.Namespace) -> WritebackPlan:
    try:
        base_url = command_base_url()
    except SettingsError as error:
        raise UsageError(str(error)) from None
    if base_url is None:
        raise UsageError(
            "--writeback needs SMARTAPP_BASE_URL: the Flags and Tasks name the app as their author"
        )
    try:
        org = load_org_config(Path(args.config)) if args.config else OrgConfig()
    except ConfigError as error:
        raise UsageError(str(error)) from None
    return WritebackPlan(base_url, org, PopulationTargets.for_org(org))


def _fetch(
    settings: StoreSettings,
    issuer: IssuerConfig,
    args: argparse.Namespace,
    run: WorklistRun,
    database: Database,
    writeback: WritebackPlan | None,
) -> tuple[FetchResult, PopulationWriteback | None]:
    cipher = SecretCipher(settings.required_token_key())  # the signing keys and the run's PHI
    key_ring = KeyRing.load_or_create(SigningKeyStore(database, cipher), now=datetime.now(UTC))
    folder = download_folder(settings.instance_dir, issuer)
    with only_fetch(folder), requests.Session() as http:
        http.trust_env = False
        http.verify = str(issuer.tls_ca_file) if issuer.tls_ca_file else True
        smart_config = discover(issuer.iss, http)
        tokens = BackendTokens(issuer, smart_config, http, key_ring)
        exporter = BulkExport(
            export_url(issuer, args.group, run.settings.local_anc_codes),
            folder,
            http,
            tokens,
            say=_say,
            meter=_meter,
            settings=bulk_settings(args.max_wait_hours),
        )
        result = fetch_run(
            issuer,
            args.group,
            exporter,
            run,
            WorklistRuns(database, cipher),
            report=_say,
            meter=_meter,
        )
        if writeback is None:
            return result, None
        return result, _write(issuer, tokens, http, database, writeback)


def _write(
    issuer: IssuerConfig,
    tokens: BackendTokens,
    http: requests.Session,
    database: Database,
    plan: WritebackPlan,
) -> PopulationWriteback:
    """Each kept patient's Flag or Task, written with the run's token after the run is stored."""

    def renewed() -> bool:
        tokens.renew()
        return True

    client = FhirClient(
        issuer.iss,
        tokens.current,
        session=http,
        vendor=issuer.vendor,
        client_id=issuer.backend_client_id,
        page_size=issuer.page_size,
        on_unauthorized=renewed,
    )
    zone = plan.org.mapping_settings().timezone
    return write_population(
        plan.targets,
        iss=issuer.iss,
        actor=f"smartapp worklist fetch (backend client {issuer.backend_client_id})",
        preferred=issuer.writeback,
        scopes=tokens.scopes(),
        client=client,
        ledger=WritebackLedger(database),
        base_url=plan.base_url,
        task_intent=plan.org.task_intent,
        now=lambda: datetime.now(UTC).astimezone(zone or UTC),
    )


def _issuer(settings: StoreSettings, wanted: str | None) -> IssuerConfig:
    if settings.issuers_file is None:
        raise UsageError("SMARTAPP_ISSUERS_FILE is not set: it names the EHRs to fetch from")
    try:
        issuers = list(load_issuers(settings.issuers_file))
    except ConfigurationError as error:
        raise UsageError(f"SMARTAPP_ISSUERS_FILE: {error.message}") from None
    return chosen_issuer(issuers, wanted)


def _registry(database: Database, issuer: IssuerConfig, policy: Policy) -> Registry:
    """The program registry the app keeps for this EHR (as `--registry` would give it)."""
    records = RegistryStore(database).export(issuer.iss)
    return Registry.from_json(records, program_fields=policy.organisation is not None)


def _summary(issuer: IssuerConfig, result: FetchResult) -> str:
    summary, times = result.summary, result.times
    statuses = ", ".join(f"{n} {status}" for status, n in summary.by_status.items())
    problems = [
        f"{summary.incomplete} data incomplete" if summary.incomplete else "",
        f"{summary.not_evaluated} not evaluated" if summary.not_evaluated else "",
        f"{summary.export_errors} export errors" if summary.export_errors else "",
        f"{summary.read.unusable} unreadable lines" if summary.read.unusable else "",
    ]
    noted = "".join(f", {p}" for p in problems if p)
    return (
        f"worklist run {result.run.run_id} stored for {issuer.name}{' (resumed)' if result.resumed else ''}:"
        f" {summary.evaluated} patients ({statuses}){noted}; export {times.export_s:.2f} s,"
        f" download {times.download_s:.2f} s, evaluation {times.evaluation_s:.2f} s"
    )


def _failed(message: str) -> int:
    _say(f"worklist fetch failed: {message}")
    return FAILED


def _say(message: str) -> None:
    sys.stderr.write(f"smartapp: {message}\n")
    sys.stderr.flush()


def _meter(total: int | None, label: str, description: str) -> Meter:
    return Progress.for_work(total, sys.stderr, label=label, description=description)
