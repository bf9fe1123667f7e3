"""The long-lived objects one app instance holds: database, repositories, SMART client parts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import requests

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
from smartapp.org_config import OrgConfig, load_org_config
from smartapp.settings import AppSettings


@dataclass
class Services:
    """Everything the blueprints share; built once by create_app."""

    settings: AppSettings
    database: Database
    sessions: LaunchSessions
    pending: PendingLaunches
    ledger: WritebackLedger
    audit: AuditLog
    registry: RegistryStore
    issuers: IssuerRegistry
    discovery: DiscoveryCache
    keys: KeyRing
    org: OrgConfig
    executor: ThreadPoolExecutor
    client_secrets: dict[str, str | None]
    capabilities: CapabilityCache = field(default_factory=CapabilityCache)

    def http_for(self, issuer: IssuerConfig) -> requests.Session:
        """An HTTP session for one EHR: its CA bundle if configured, never the environment's."""
        session = requests.Session()
        session.trust_env = False
        session.verify = str(issuer.tls_ca_file) if issuer.tls_ca_file else True
        return session

    def policy_on(self, as_of: date) -> Policy:
        """The policy in force on a date, with the organisation's program on top if it has one."""
        policy = policy_in_force(as_of)
        if self.org.program is not None:
            policy = with_organisation_program(policy, self.org.program)
        return policy

    def close(self) -> None:
        """Release the thread pool and the database connections."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.database.dispose()


def build_services(settings: AppSettings) -> Services:
    """Open the database, load the issuers and the organisation's settings, load the keys."""
    database = Database(settings.database_url)
    cipher = SecretCipher(settings.token_key)
    keys = KeyRing.load_or_create(SigningKeyStore(database, cipher), now=datetime.now(UTC))
    org = load_org_config(settings.org_config_file) if settings.org_config_file else OrgConfig()
    issuers = load_issuers(settings.issuers_file)
    secrets = {issuer.iss: client_secret(issuer, settings.environment) for issuer in issuers}
    return Services(
        settings=settings,
        database=database,
        sessions=LaunchSessions(database, cipher),
        pending=PendingLaunches(database, cipher),
        ledger=WritebackLedger(database),
        audit=AuditLog(database),
        registry=RegistryStore(database),
        issuers=issuers,
        discovery=DiscoveryCache(),
        keys=keys,
        org=org,
        executor=ThreadPoolExecutor(max_workers=8, thread_name_prefix="fhir"),
        client_secrets=secrets,
    )
