"""The long-lived objects one app instance holds: database, repositories, SMART client parts."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ParamSpec, TypeVar

import requests
from flask import current_app

from clozapine import Policy, policy_in_force, with_organisation_program
from fhir_client import CapabilityCache
from launch import (
    DiscoveryCache,
    IssuerConfig,
    IssuerRegistry,
    KeyRing,
    client_secret,
    load_issuers,
)
from smartapp.clock import today
from smartapp.db import (
    AuditLog,
    Database,
    LaunchSessions,
    PendingLaunches,
    SecretCipher,
    SigningKeyStore,
    WritebackLedger,
)
from smartapp.db.registry_store import RegistryStore
from smartapp.db.worklist_runs import WorklistRuns
from smartapp.org_config import OrgConfig, load_app_org_config
from smartapp.settings import AppSettings
from smartapp.tenancy.admins import WORKLIST_SETTING, RegistryAdmins

SERVICES_KEY = "smartapp"
_P = ParamSpec("_P")
_T = TypeVar("_T")


class ContextThreadPool(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitter's context variables, so what
    they log carries the request id of the request that submitted them."""

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        context = contextvars.copy_context()
        call: Callable[..., Any] = context.run
        return super().submit(call, fn, *args, **kwargs)


class HttpSessions:
    """One `requests.Session` per EHR, made at the first request to it and reused after.

    Each keeps its connection pool warm for every request, thread and call (discovery, token
    calls, FHIR reads, the style document) to that EHR. It trusts the issuer's CA bundle if
    one is configured, and never the environment's proxy or CA settings.
    """

    def __init__(self) -> None:
        self._sessions: dict[str, requests.Session] = {}
        self._lock = threading.Lock()

    def for_issuer(self, issuer: IssuerConfig) -> requests.Session:
        """The issuer's session."""
        with self._lock:
            session = self._sessions.get(issuer.iss)
            if session is None:
                session = requests.Session()
                session.trust_env = False
                session.verify = str(issuer.tls_ca_file) if issuer.tls_ca_file else True
                self._sessions[issuer.iss] = session
            return session

    def close(self) -> None:
        """Close every session (at shutdown, and in a forked worker before it serves)."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()


@dataclass
class Services:
    """Everything the blueprints share; built once by create_app, closed at shutdown."""

    settings: AppSettings
    database: Database
    sessions: LaunchSessions
    pending: PendingLaunches
    ledger: WritebackLedger
    audit: AuditLog
    registry: RegistryStore
    admins: RegistryAdmins
    worklist_users: RegistryAdmins
    worklist_runs: WorklistRuns
    issuers: IssuerRegistry
    discovery: DiscoveryCache
    keys: KeyRing
    org: OrgConfig
    executor: ThreadPoolExecutor
    client_secrets: dict[str, str | None]
    capabilities: CapabilityCache = field(default_factory=CapabilityCache)
    http: HttpSessions = field(default_factory=HttpSessions)

    def http_for(self, issuer: IssuerConfig) -> requests.Session:
        """The HTTP session of one EHR (see HttpSessions)."""
        return self.http.for_issuer(issuer)

    def today(self) -> date:
        """Today in the organisation's time zone: the date every evaluation is made as of."""
        return today(self.org.mapping_settings().timezone)

    def policy_on(self, as_of: date) -> Policy:
        """The policy in force on a date, with the organisation's program on top if it has one."""
        policy = policy_in_force(as_of)
        if self.org.program is not None:
            policy = with_organisation_program(policy, self.org.program)
        return policy

    def close(self) -> None:
        """Release the HTTP sessions, the thread pool and the database connections."""
        self.http.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.database.dispose()


def current_services() -> Services:
    """The services of the app handling the current request."""
    return current_app.extensions[SERVICES_KEY]  # type: ignore[no-any-return]


def build_services(settings: AppSettings) -> Services:
    """Load the issuers, the administrators and the organisation's settings (any of them wrong,
    or no time zone, stops start-up before a connection is opened), then open the database and
    load the keys."""
    issuers = load_issuers(settings.issuers_file)
    secrets = {issuer.iss: client_secret(issuer, settings.environment) for issuer in issuers}
    admins = RegistryAdmins.from_setting(
        sorted(settings.registry_admins), [issuer.iss for issuer in issuers]
    )
    worklist_users = RegistryAdmins.from_setting(
        sorted(settings.worklist_users), [issuer.iss for issuer in issuers], WORKLIST_SETTING
    )
    org = load_app_org_config(settings.org_config_file)
    database = Database(settings.database_url)
    cipher = SecretCipher(settings.token_key)
    keys = KeyRing.load_or_create(SigningKeyStore(database, cipher), now=datetime.now(UTC))
    return Services(
        settings=settings,
        database=database,
        sessions=LaunchSessions(database, cipher, idle_timeout=settings.session_idle),
        pending=PendingLaunches(database, cipher),
        ledger=WritebackLedger(database),
        audit=AuditLog(database),
        registry=RegistryStore(database),
        admins=admins,
        worklist_users=worklist_users,
        worklist_runs=WorklistRuns(database, cipher),
        issuers=issuers,
        discovery=DiscoveryCache(),
        keys=keys,
        org=org,
        executor=ContextThreadPool(max_workers=8, thread_name_prefix="fhir"),
        client_secrets=secrets,
    )
