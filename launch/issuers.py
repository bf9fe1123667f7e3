"""The issuer allow-list: one validated `IssuerConfig` per EHR, loaded from a TOML file.

    [[issuer]]
    name = "Sandbox EHR"
    iss = "https://127.0.0.1:9443/fhir"
    client_id = "clozapine-smartapp"
    auth_method = "none"            # none | client_secret_basic | client_secret_post | private_key_jwt
    client_secret_env = "..."       # NAME of the variable holding the secret (secret methods only)
    signing_alg = "RS384"           # RS384 | ES384 (private_key_jwt only; RS384 by default)
    scope_version = "v2"            # v1 | v2; `scopes` defaults to the app's scopes in that syntax
    vendor = "generic"              # generic | epic | oracle; left out: from the CapabilityStatement
    frame_ancestors = ["https://127.0.0.1:9443"]
    page_size = 100
    writeback = ["Flag", "Task", "DocumentReference"]
    tls_ca_file = "../var/sandbox/tls/ca.pem"   # relative to this file's folder
    cds_client_iss = "https://ehr.example.org/cds"  # the `iss` of the EHR's CDS Hooks JWTs
    cds_jwks_url = "https://ehr.example.org/cds/jwks.json"  # or inline: cds_jwks = {keys = [...]}
    cds_fhir_server = "https://127.0.0.1:9443/fhir"  # the fhirServer its requests may name (iss)
    backend_client_id = "..."       # SMART Backend Services client (the worklist's export)
    backend_scopes = "..."          # default: system/ read scopes of the worklist's types
    export_type_filter = false      # true: the export asks only for the lab Observations read

Secrets never live in the file: `client_secret(issuer, environ)` reads them at start-up.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from launch.errors import ConfigurationError, LaunchError, quoted_text
from launch.scopes import ScopeVersion, split_scopes, to_v1
from launch.urls import is_secure_url, normalise_iss, normalise_origin

__all__ = [
    "DEFAULT_SCOPES",
    "AuthMethod",
    "IssuerConfig",
    "IssuerRegistry",
    "SigningAlg",
    "Vendor",
    "client_secret",
    "load_issuers",
]

DEFAULT_SCOPES = (
    "launch openid fhirUser offline_access patient/Patient.rs patient/Observation.rs "
    "patient/MedicationRequest.rs patient/Medication.rs patient/Condition.rs "
    "patient/PractitionerRole.rs "
    "patient/Flag.crus patient/Task.crus patient/DocumentReference.cs"
)
# What the worklist's Bulk Data export reads (SMART Backend Services, system/ scopes).
DEFAULT_BACKEND_SCOPES = (
    "system/Patient.rs system/MedicationRequest.rs system/Medication.rs system/Observation.rs "
    "system/Condition.rs system/Practitioner.rs system/PractitionerRole.rs system/Organization.rs"
)
DEFAULT_WRITEBACK = ("Flag", "Task", "DocumentReference")
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

_E = TypeVar("_E", bound=StrEnum)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]+$")


class AuthMethod(StrEnum):
    """How the app authenticates at the EHR's token endpoint."""

    NONE = "none"
    # Method names, not secrets.
    CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105
    CLIENT_SECRET_POST = "client_secret_post"  # noqa: S105
    PRIVATE_KEY_JWT = "private_key_jwt"


SECRET_METHODS = frozenset({AuthMethod.CLIENT_SECRET_BASIC, AuthMethod.CLIENT_SECRET_POST})


class SigningAlg(StrEnum):
    """Client assertion algorithms SMART asks servers to support (client-confidential-asymmetric)."""

    RS384 = "RS384"
    ES384 = "ES384"


class Vendor(StrEnum):
    """The EHR's FHIR behaviour profile (required search parameters, page sizes)."""

    GENERIC = "generic"
    EPIC = "epic"
    ORACLE = "oracle"


def _bad(key: str, problem: str) -> ConfigurationError:
    return ConfigurationError("invalid_issuer_config", f"'{key}' {problem}")


def _enum(kind: type[_E], key: str, value: object) -> _E:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise _bad(key, f"must be one of {choices} (got {value!r})") from None


@dataclass(frozen=True, slots=True)
class IssuerConfig:
    """One allow-listed EHR: how to authenticate there, what to ask for, how to behave."""

    iss: str
    client_id: str
    auth_method: AuthMethod = AuthMethod.NONE
    client_secret_env: str | None = None
    signing_alg: SigningAlg | None = None
    scopes: str = DEFAULT_SCOPES
    scope_version: ScopeVersion = ScopeVersion.V2
    # None: the app reads it from the EHR's CapabilityStatement (software.name, publisher)
    vendor: Vendor | None = None
    frame_ancestors: tuple[str, ...] = ()
    page_size: int = DEFAULT_PAGE_SIZE
    writeback: tuple[str, ...] = DEFAULT_WRITEBACK
    tls_ca_file: Path | None = None
    name: str = field(default="")
    cds_client_iss: str | None = None
    cds_jwks_url: str | None = None
    cds_jwks: str | None = None  # the inline JWKS as JSON text
    cds_fhir_server: str | None = None
    backend_client_id: str | None = None
    backend_scopes: str = ""
    export_type_filter: bool = False

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)  # frozen: normalise once, here

        try:
            put("iss", normalise_iss(self.iss))
        except ValueError as error:
            raise _bad("iss", f"{error} (got {self.iss!r})") from None
        if not self.client_id.strip():
            raise _bad("client_id", "must not be empty")
        method = _enum(AuthMethod, "auth_method", self.auth_method)
        put("auth_method", method)
        put("scope_version", _enum(ScopeVersion, "scope_version", self.scope_version))
        if self.vendor is not None:
            put("vendor", _enum(Vendor, "vendor", self.vendor))
        self._check_credentials(method, put)
        if not split_scopes(self.scopes):
            raise _bad("scopes", "must not be empty")
        put("scopes", " ".join(split_scopes(self.scopes)))
        try:
            put("frame_ancestors", tuple(normalise_origin(o) for o in self.frame_ancestors))
        except ValueError as error:
            raise _bad("frame_ancestors", str(error)) from None
        if isinstance(self.page_size, bool) or not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise _bad("page_size", f"must be an integer from 1 to {MAX_PAGE_SIZE}")
        bad = [t for t in self.writeback if not _RESOURCE_TYPE.match(t)]
        if bad or len(set(self.writeback)) != len(self.writeback):
            raise _bad(
                "writeback", f"must list distinct FHIR resource types (got {bad or 'repeats'})"
            )
        put("writeback", tuple(self.writeback))
        put("name", self.name.strip() or self.iss)
        self._check_cds_client(put)
        self._check_backend(put)

    @property
    def accepts_cds_client(self) -> bool:
        """Whether a CDS client of this EHR is configured (CDS Hooks 2.0 "Trusting CDS Clients")."""
        return self.cds_client_iss is not None

    def _check_cds_client(self, put: Callable[[str, object], None]) -> None:
        given = [k for k in ("cds_jwks_url", "cds_jwks", "cds_fhir_server") if getattr(self, k)]
        if self.cds_client_iss is None:
            if given:
                raise _bad(given[0], "needs cds_client_iss (the CDS client it is about)")
            return
        if not self.cds_client_iss.strip():
            raise _bad("cds_client_iss", "must not be empty")
        put("cds_client_iss", self.cds_client_iss.strip())
        if (self.cds_jwks_url is None) == (self.cds_jwks is None):
            raise _bad("cds_client_iss", "needs exactly one of cds_jwks_url and cds_jwks")
        if self.cds_jwks_url is not None and not is_secure_url(self.cds_jwks_url):
            raise _bad("cds_jwks_url", "must be an absolute https URL")
        if self.cds_jwks is not None:
            try:
                keys = json.loads(self.cds_jwks).get("keys")
            except (ValueError, AttributeError):
                keys = None
            if not isinstance(keys, list) or not keys:
                raise _bad("cds_jwks", "must be a JWKS: a table with a non-empty list `keys`")
        try:
            put("cds_fhir_server", normalise_iss(self.cds_fhir_server or self.iss))
        except ValueError as error:
            raise _bad("cds_fhir_server", str(error)) from None

    def _check_backend(self, put: Callable[[str, object], None]) -> None:
        """The Backend Services client: its id, and its system/ scopes (the default's when none
        are given, in v1 form for a v1 issuer)."""
        if self.backend_client_id is not None and not self.backend_client_id.strip():
            raise _bad("backend_client_id", "must not be empty")
        backend = split_scopes(self.backend_scopes) or split_scopes(DEFAULT_BACKEND_SCOPES)
        if self.scope_version is ScopeVersion.V1 and not self.backend_scopes:
            backend = to_v1(backend)
        if any(not scope.startswith("system/") for scope in backend):
            raise _bad("backend_scopes", "must list system/ scopes only")
        put("backend_scopes", " ".join(backend))

    def _check_credentials(self, method: AuthMethod, put: Callable[[str, object], None]) -> None:
        if method in SECRET_METHODS:
            if not self.client_secret_env or not _ENV_NAME.match(self.client_secret_env):
                raise _bad("client_secret_env", f"must name an environment variable for {method}")
        elif self.client_secret_env is not None:
            raise _bad("client_secret_env", f"is only for client secret methods, not {method}")
        if method is AuthMethod.PRIVATE_KEY_JWT:
            put("signing_alg", _enum(SigningAlg, "signing_alg", self.signing_alg or "RS384"))
        elif self.signing_alg is not None:
            raise _bad("signing_alg", f"is only for private_key_jwt, not {method}")


def client_secret(issuer: IssuerConfig, environ: Mapping[str, str]) -> str | None:
    """The issuer's client secret from `environ` (None for public and private_key_jwt clients)."""
    if issuer.auth_method not in SECRET_METHODS:
        return None
    assert issuer.client_secret_env is not None  # noqa: S101  # checked in __post_init__
    secret = environ.get(issuer.client_secret_env, "")
    if not secret:
        raise ConfigurationError(
            "missing_client_secret",
            f"issuer {issuer.name!r}: environment variable {issuer.client_secret_env} is not set",
        )
    return secret


class IssuerRegistry:
    """The allow-list: issuers by normalised `iss`."""

    def __init__(self, issuers: list[IssuerConfig]) -> None:
        self._by_iss: dict[str, IssuerConfig] = {}
        self._by_cds_client: dict[str, IssuerConfig] = {}
        for issuer in issuers:
            if issuer.iss in self._by_iss:
                raise _bad("iss", f"{issuer.iss} is listed twice")
            if issuer.cds_client_iss is not None:
                if issuer.cds_client_iss in self._by_cds_client:
                    raise _bad("cds_client_iss", f"{issuer.cds_client_iss} is listed twice")
                self._by_cds_client[issuer.cds_client_iss] = issuer
            self._by_iss[issuer.iss] = issuer

    def get(self, iss: str) -> IssuerConfig:
        """The allow-listed issuer for `iss`; LaunchError when it is malformed or not listed."""
        try:
            key = normalise_iss(iss)
        except ValueError:
            named = quoted_text(iss, 100)
            raise LaunchError(
                "invalid_issuer",
                f"The launch named an invalid issuer{f' ({named})' if named else ''}:"
                " it must be the EHR's https FHIR base URL.",
            ) from None
        try:
            return self._by_iss[key]
        except KeyError:
            raise LaunchError(
                "unknown_issuer",
                f"This EHR ({quoted_text(key)}) is not registered with the app: its"
                " administrators add it to the issuers file (SMARTAPP_ISSUERS_FILE).",
            ) from None

    def for_cds_client(self, client_iss: str) -> IssuerConfig | None:
        """The issuer whose CDS client signs its JWTs with this `iss`, if one is configured."""
        return self._by_cds_client.get(client_iss)

    def check_secrets(self, environ: Mapping[str, str]) -> None:
        """Raise ConfigurationError naming the first missing client secret variable."""
        for issuer in self:
            client_secret(issuer, environ)

    def __iter__(self) -> Iterator[IssuerConfig]:
        return iter(self._by_iss.values())

    def __len__(self) -> int:
        return len(self._by_iss)


_KEY_TYPES: dict[str, type] = {
    "name": str,
    "iss": str,
    "client_id": str,
    "auth_method": str,
    "client_secret_env": str,
    "signing_alg": str,
    "scopes": str,
    "scope_version": str,
    "vendor": str,
    "frame_ancestors": list,
    "page_size": int,
    "writeback": list,
    "tls_ca_file": str,
    "cds_client_iss": str,
    "cds_jwks_url": str,
    "cds_jwks": dict,
    "cds_fhir_server": str,
    "backend_client_id": str,
    "backend_scopes": str,
    "export_type_filter": bool,
}
_REQUIRED = ("iss", "client_id")


def load_issuers(path: str | Path) -> IssuerRegistry:
    """Read and validate the issuers file; ConfigurationError names the file, table and key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigurationError(
            "issuers_file", f"cannot read issuers file {path}: {error.strerror}"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError("issuers_file", f"{path} is not valid TOML: {error}") from None
    extra = sorted(set(data) - {"issuer"})
    tables = data.get("issuer")
    if extra or not isinstance(tables, list) or not tables:
        problem = f"unknown key(s) {extra}" if extra else "no [[issuer]] tables"
        raise ConfigurationError("issuers_file", f"{path}: {problem}")
    issuers = []
    for number, table in enumerate(tables, start=1):
        try:
            issuers.append(_issuer_from_table(table, path.parent))
        except ConfigurationError as error:
            where = f"{path}: [[issuer]] #{number}"
            raise ConfigurationError(error.error, f"{where}: {error.message}") from None
    try:
        return IssuerRegistry(issuers)
    except ConfigurationError as error:
        raise ConfigurationError(error.error, f"{path}: {error.message}") from None


def _issuer_from_table(table: dict[str, Any], folder: Path) -> IssuerConfig:
    unknown = sorted(set(table) - set(_KEY_TYPES))
    if unknown:
        raise _bad(unknown[0], "is not a known key")
    for key in _REQUIRED:
        if key not in table:
            raise _bad(key, "is required")
    for key, value in table.items():
        kind = _KEY_TYPES[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise _bad(key, f"must be a {kind.__name__} (got {type(value).__name__})")
        if isinstance(value, list) and not all(isinstance(item, str) for item in value):
            raise _bad(key, "must be a list of strings")
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in table.items()}
    if "tls_ca_file" in values:
        values["tls_ca_file"] = folder / values["tls_ca_file"]
        if not values["tls_ca_file"].is_file():
            raise _bad("tls_ca_file", f"names {values['tls_ca_file']}, which is not a file")
    if "cds_jwks" in values:
        values["cds_jwks"] = json.dumps(values["cds_jwks"], sort_keys=True)
    if "scopes" not in values and table.get("scope_version") == ScopeVersion.V1:
        values["scopes"] = " ".join(to_v1(DEFAULT_SCOPES))
    return IssuerConfig(**values)
