"""Sandbox EHR settings: defaults, the TOML file `sandbox/sandbox.toml`, and derived URLs."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "sandbox" / "sandbox.toml"
VENDORS = ("generic", "epic", "oracle")
# How the chart sends its CDS Hooks calls: the data prefetched from the discovery's templates,
# or only a FHIR token (`fhirAuthorization`) the service reads the record with.
CDS_MODES = ("prefetch", "fhir-authorization")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """Everything the sandbox needs to start; URLs are derived from host and ports."""

    host: str = "127.0.0.1"
    port: int = 9443
    engine_port: int = 9444
    access_token_lifetime_s: int = 570
    launch_lifetime_s: int = 600
    practitioner_id: str = ""
    default_vendor: str = "generic"
    app_launch_url: str = "https://localhost:8443/launch"
    # The patient portal launches the app's patient-facing view here.
    app_portal_launch_url: str = "https://localhost:8443/patient/launch"
    app_client_id: str = "clozapine-smartapp"
    clients_file: Path = PROJECT_ROOT / "sandbox" / "clients.toml"
    tls_dir: Path = PROJECT_ROOT / "var" / "sandbox" / "tls"
    data_dir: Path = PROJECT_ROOT / "var" / "sandbox"
    as_of: date | None = None
    # The CDS Hooks service the chart calls (its discovery URL); empty: the chart calls none.
    cds_services_url: str = "https://localhost:8443/cds-services"
    cds_mode: str = "prefetch"

    @property
    def origin(self) -> str:
        """The EHR front's public origin (chart, authorization server, FHIR proxy)."""
        return f"https://{self.host}:{self.port}"

    @property
    def fhir_base(self) -> str:
        """The issuer (`iss`) apps are launched with: the proxied FHIR base."""
        return f"{self.origin}/fhir"

    @property
    def engine_base(self) -> str:
        """The internal Node FHIR engine's base, reached only by the proxy."""
        return f"http://127.0.0.1:{self.engine_port}/fhir"

    @property
    def cds_client_iss(self) -> str:
        """The `iss` of the JWTs the chart signs for its CDS Hooks calls."""
        return f"{self.origin}/cds-client"

    @property
    def cds_jwks_url(self) -> str:
        """Where the chart publishes the public key of its CDS Hooks JWTs."""
        return f"{self.origin}/cds-client/jwks.json"

    @property
    def chart_url(self) -> str:
        return f"{self.origin}/chart"

    @property
    def portal_url(self) -> str:
        return f"{self.origin}/portal"

    def replace(self, **changes: Any) -> SandboxConfig:
        """A copy with the given fields changed (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


_SECTIONS: dict[str, dict[str, str]] = {
    "ehr": {
        "host": "host",
        "port": "port",
        "access_token_lifetime_s": "access_token_lifetime_s",
        "launch_lifetime_s": "launch_lifetime_s",
        "practitioner_id": "practitioner_id",
        "default_vendor": "default_vendor",
        "clients_file": "clients_file",
    },
    "engine": {"port": "engine_port"},
    "app": {
        "launch_url": "app_launch_url",
        "portal_launch_url": "app_portal_launch_url",
        "client_id": "app_client_id",
    },
    "paths": {"tls_dir": "tls_dir", "data_dir": "data_dir"},
    "cds": {"services_url": "cds_services_url", "mode": "cds_mode"},
}
_PATH_FIELDS = {"clients_file", "tls_dir", "data_dir"}
_INT_FIELDS = {"port", "engine_port", "access_token_lifetime_s", "launch_lifetime_s"}


def load_config(path: Path | None = None) -> SandboxConfig:
    """Read the TOML settings file (default `sandbox/sandbox.toml`) over the built-in defaults."""
    path = path or DEFAULT_CONFIG_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"sandbox config file not found: {path}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"sandbox config file {path} is not valid TOML: {error}") from error
    values: dict[str, Any] = {}
    for section, keys in _SECTIONS.items():
        table = data.get(section, {})
        unknown = set(table) - set(keys)
        if unknown:
            raise ConfigError(f"unknown setting(s) in [{section}] of {path}: {sorted(unknown)}")
        for key, attr in keys.items():
            if key in table:
                values[attr] = _coerce(attr, table[key], f"[{section}] {key}")
    config = SandboxConfig(**values)
    validate_config(config)
    return config


def _coerce(attr: str, value: Any, name: str) -> Any:
    if attr in _PATH_FIELDS:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{name} must be a non-empty path")
        candidate = Path(value)
        return candidate if candidate.is_absolute() else PROJECT_ROOT / candidate
    if attr in _INT_FIELDS:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{name} must be a non-negative integer")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string")
    return value


def validate_config(config: SandboxConfig) -> None:
    """Stop start-up with a message naming the first bad setting."""
    if config.default_vendor not in VENDORS:
        raise ConfigError(f"default_vendor must be one of {VENDORS}, not {config.default_vendor!r}")
    if config.access_token_lifetime_s <= 0:
        raise ConfigError("access_token_lifetime_s must be positive")
    if not config.app_launch_url.startswith("https://"):
        raise ConfigError("app launch_url must be an https URL")
    if not config.app_portal_launch_url.startswith("https://"):
        raise ConfigError("app portal_launch_url must be an https URL")
    if config.cds_services_url and not config.cds_services_url.startswith("https://"):
        raise ConfigError("cds services_url must be an https URL (or empty)")
    if config.cds_mode not in CDS_MODES:
        raise ConfigError(f"cds mode must be one of {CDS_MODES}, not {config.cds_mode!r}")
    if not config.host.startswith("127."):
        raise ConfigError("the sandbox listens on loopback only: host must be in 127.0.0.0/8")
