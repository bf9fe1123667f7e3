"""The app's settings, read once from SMARTAPP_* environment variables (or a test mapping).

This is the only module that reads `os.environ` (tests/unit/test_architecture_app.py keeps it
so): the web app (`load_settings`) and the `smartapp` commands (`load_store_settings`) resolve
the database and the token key through the same functions here, so `smartapp db upgrade` and
the app can never pick different SQLite files. A missing or bad setting stops start-up with a
message naming it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

PREFIX = "SMARTAPP_"
DEFAULT_INSTANCE_DIR = "var"
DATABASE_FILE = "smartapp.db"
# How long rows are kept (`smartapp db purge`): an ended launch session (with the evaluation
# last shown in it, encrypted and never shown again) a day; an audit event six years (HIPAA's documentation retention).
DEFAULT_SESSION_RETENTION_DAYS = 1.0
DEFAULT_AUDIT_RETENTION_DAYS = 6 * 365.0
# A launch session unused this long has ended (the handle in its URLs is no longer a credential).
DEFAULT_SESSION_IDLE_MINUTES = 30.0
# A stored worklist run a month: the page shows the latest, the rest is history for audits.
DEFAULT_WORKLIST_RETENTION_DAYS = 30.0
# The worklist page warns when the latest run is older: the scheduler runs daily, so an older
# run means it has stopped (population.md).
DEFAULT_WORKLIST_MAX_AGE_HOURS = 26.0


class SettingsError(ValueError):
    """A setting is missing or unusable; the message names it."""


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """What the app's database needs: where it is, the key of the secrets kept in it, and the
    issuer allow-list (records are kept per EHR), when the environment names one."""

    database_url: str
    token_key: str | None = field(default=None, repr=False)
    issuers_file: Path | None = None
    session_retention: timedelta = timedelta(days=DEFAULT_SESSION_RETENTION_DAYS)
    audit_retention: timedelta = timedelta(days=DEFAULT_AUDIT_RETENTION_DAYS)
    session_idle: timedelta = timedelta(minutes=DEFAULT_SESSION_IDLE_MINUTES)
    worklist_retention: timedelta = timedelta(days=DEFAULT_WORKLIST_RETENTION_DAYS)
    instance_dir: Path = Path(DEFAULT_INSTANCE_DIR)
    org_config_file: Path | None = None

    def required_token_key(self) -> str:
        """The token key; SettingsError naming the variable when it is not set."""
        if not self.token_key:
            raise SettingsError(f"{PREFIX}TOKEN_KEY is not set: it encrypts the keys at rest")
        return fernet_key("TOKEN_KEY", self.token_key)


@dataclass(frozen=True, slots=True)
class AppSettings:
    """Everything the app is configured with.

    `environment` is the snapshot the issuers' client secrets are read from (by variable name).
    """

    base_url: str
    secret_key: str
    token_key: str
    issuers_file: Path
    database_url: str
    instance_dir: Path
    org_config_file: Path | None
    registry_admins: frozenset[str]
    auto_writeback: bool
    log_level: str
    fhir_timeout_s: float
    environment: Mapping[str, str] = field(default_factory=dict, repr=False)
    session_retention: timedelta = timedelta(days=DEFAULT_SESSION_RETENTION_DAYS)
    session_idle: timedelta = timedelta(minutes=DEFAULT_SESSION_IDLE_MINUTES)
    worklist_users: frozenset[str] = frozenset()
    worklist_max_age: timedelta = timedelta(hours=DEFAULT_WORKLIST_MAX_AGE_HOURS)

    @property
    def redirect_uri(self) -> str:
        """Where the EHR's authorization server sends the browser back."""
        return f"{self.base_url}/callback"

    @property
    def patient_redirect_uri(self) -> str:
        """Where the EHR returns a patient or caregiver after sign-in (the patient-facing view)."""
        return f"{self.base_url}/patient/callback"

    @property
    def worklist_redirect_uri(self) -> str:
        """Where the EHR returns a coordinator after a sign-in without a patient (the worklist)."""
        return f"{self.base_url}/worklist/callback"


def process_environment() -> dict[str, str]:
    """A snapshot of the process environment: the one place the app reads it."""
    return dict(os.environ)


def load_settings(
    overrides: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> AppSettings:
    """Settings from the environment, with `overrides` (names without the prefix) winning."""
    environment = {**(process_environment() if environ is None else environ)}
    source = _source(environment, overrides)
    base_url = public_base_url(source)
    issuers_file = _issuers_file(source)
    org_config = source.get("ORG_CONFIG")
    if org_config and not Path(org_config).is_file():
        raise SettingsError(f"{PREFIX}ORG_CONFIG {org_config} does not exist")
    return AppSettings(
        base_url=base_url,
        secret_key=_secret(source, "SECRET_KEY"),
        token_key=fernet_key("TOKEN_KEY", _required(source, "TOKEN_KEY")),
        issuers_file=issuers_file,
        database_url=database_url(source),
        instance_dir=instance_dir(source),
        org_config_file=Path(org_config) if org_config else None,
        registry_admins=_users(source, "REGISTRY_ADMINS"),
        auto_writeback=_flag(source, "AUTO_WRITEBACK"),
        log_level=source.get("LOG_LEVEL", "INFO").upper(),
        fhir_timeout_s=_number(source, "FHIR_TIMEOUT_S", 10.0),
        environment={**environment, **(overrides or {})},
        session_retention=_days(source, "SESSION_RETENTION_DAYS", DEFAULT_SESSION_RETENTION_DAYS),
        session_idle=_idle_minutes(source),
        worklist_users=_users(source, "WORKLIST_USERS"),
        worklist_max_age=_hours(source, "WORKLIST_MAX_AGE_HOURS", DEFAULT_WORKLIST_MAX_AGE_HOURS),
    )


def _users(source: Mapping[str, str], name: str) -> frozenset[str]:
    """A comma-separated list of fhirUser URLs, blanks dropped."""
    return frozenset(a.strip() for a in source.get(name, "").split(",") if a.strip())


def _hours(source: Mapping[str, str], name: str, default: float) -> timedelta:
    try:
        value = float(source.get(name, "").strip() or default)
    except ValueError:
        raise SettingsError(f"{PREFIX}{name} must be a number of hours") from None
    if not 1 <= value <= 24 * 365:
        raise SettingsError(f"{PREFIX}{name} must be from 1 to 8760 hours")
    return timedelta(hours=value)


@dataclass(frozen=True, slots=True)
class PublicSettings:
    """What the EHR team registers the app with: its public origin and the issuers."""

    base_url: str
    issuers_file: Path


def load_public_settings(
    overrides: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> PublicSettings:
    """The app's public base URL and issuers file, checked as the app checks them."""
    source = _source(process_environment() if environ is None else environ, overrides)
    return PublicSettings(public_base_url(source), _issuers_file(source))


def command_base_url(
    overrides: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """`BASE_URL` when it is set (checked as the app checks it), for commands that only name
    the app's URLs; None when it is not set."""
    source = _source(process_environment() if environ is None else environ, overrides)
    return public_base_url(source) if source.get("BASE_URL", "").strip() else None


def public_base_url(source: Mapping[str, str]) -> str:
    """`BASE_URL`, the app's https origin, without a trailing slash."""
    base_url = _required(source, "BASE_URL").rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/"):
        raise SettingsError(
            f"{PREFIX}BASE_URL must be the app's https origin (e.g. https://localhost:8443)"
        )
    return base_url


def _issuers_file(source: Mapping[str, str]) -> Path:
    issuers_file = Path(_required(source, "ISSUERS_FILE"))
    if not issuers_file.is_file():
        raise SettingsError(f"{PREFIX}ISSUERS_FILE {issuers_file} does not exist")
    return issuers_file


def load_store_settings(
    overrides: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> StoreSettings:
    """The database settings the `smartapp` commands use, resolved as the app resolves them."""
    source = _source(process_environment() if environ is None else environ, overrides)
    issuers = source.get("ISSUERS_FILE", "").strip()
    return StoreSettings(
        database_url(source),
        source.get("TOKEN_KEY", "").strip() or None,
        Path(issuers) if issuers else None,
        session_retention=_days(source, "SESSION_RETENTION_DAYS", DEFAULT_SESSION_RETENTION_DAYS),
        audit_retention=_days(source, "AUDIT_RETENTION_DAYS", DEFAULT_AUDIT_RETENTION_DAYS),
        session_idle=_idle_minutes(source),
        worklist_retention=_days(
            source, "WORKLIST_RETENTION_DAYS", DEFAULT_WORKLIST_RETENTION_DAYS
        ),
        instance_dir=instance_dir(source),
        org_config_file=Path(org) if (org := source.get("ORG_CONFIG", "").strip()) else None,
    )


def instance_dir(source: Mapping[str, str]) -> Path:
    """The instance folder (`INSTANCE_DIR`, default `var`), absolute."""
    return Path(source.get("INSTANCE_DIR", "").strip() or DEFAULT_INSTANCE_DIR).resolve()


def database_url(source: Mapping[str, str]) -> str:
    """`DATABASE_URL` if set, else the SQLite file smartapp.db in the instance folder."""
    configured = source.get("DATABASE_URL", "").strip()
    return configured or f"sqlite:///{instance_dir(source) / DATABASE_FILE}"


def _source(environ: Mapping[str, str], overrides: Mapping[str, str] | None) -> dict[str, str]:
    """SMARTAPP_* variables without the prefix, with the overrides' names upper-cased on top."""
    source = {k[len(PREFIX) :]: v for k, v in environ.items() if k.startswith(PREFIX)}
    source.update({k.upper(): v for k, v in (overrides or {}).items()})
    return source


def _required(source: Mapping[str, str], name: str) -> str:
    value = source.get(name, "").strip()
    if not value:
        raise SettingsError(f"{PREFIX}{name} is not set")
    return value


def fernet_key(name: str, value: str) -> str:
    """`value` when it is a Fernet key; SettingsError naming the variable otherwise."""
    try:
        Fernet(value)
    except (ValueError, TypeError):
        raise SettingsError(
            f"{PREFIX}{name} is not a Fernet key (32 url-safe base64-encoded bytes; make one with"
            ' python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key()'
            '.decode())")'
        ) from None
    return value


def _secret(source: Mapping[str, str], name: str) -> str:
    value = _required(source, name)
    if len(value) < 32:
        raise SettingsError(f"{PREFIX}{name} must be at least 32 characters of random text")
    return value


def _flag(source: Mapping[str, str], name: str) -> bool:
    value = source.get(name, "false").strip().lower()
    if value not in ("true", "false", "1", "0", "yes", "no"):
        raise SettingsError(f"{PREFIX}{name} must be true or false")
    return value in ("true", "1", "yes")


def _days(source: Mapping[str, str], name: str, default: float) -> timedelta:
    try:
        value = float(source.get(name, "").strip() or default)
    except ValueError:
        raise SettingsError(f"{PREFIX}{name} must be a number of days") from None
    if not 0 <= value <= 36_500:
        raise SettingsError(f"{PREFIX}{name} must be from 0 to 36500 days")
    return timedelta(days=value)


def _idle_minutes(source: Mapping[str, str]) -> timedelta:
    name = "SESSION_IDLE_MINUTES"
    try:
        value = float(
            source.get("SESSION_IDLE_MINUTES", "").strip() or DEFAULT_SESSION_IDLE_MINUTES
        )
    except ValueError:
        raise SettingsError(f"{PREFIX}{name} must be a number of minutes") from None
    if not 1 <= value <= 8 * 60:
        raise SettingsError(f"{PREFIX}{name} must be from 1 to 480 minutes (the session's life)")
    return timedelta(minutes=value)


def _number(source: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(source.get(name, default))
    except ValueError:
        raise SettingsError(f"{PREFIX}{name} must be a number of seconds") from None
    if value <= 0:
        raise SettingsError(f"{PREFIX}{name} must be positive")
    return value
