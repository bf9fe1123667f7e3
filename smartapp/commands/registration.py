"""`smartapp registration --issuer NAME`: the sheet an EHR team registers the app with.

Every URL derives from SMARTAPP_BASE_URL (the app's public origin) and every other value from
the issuer's table in SMARTAPP_ISSUERS_FILE, so the sheet says what the running app does. It
has one section per way the app meets the EHR (SMART App Launch, the patient portal, client
authentication, embedding, the CDS Hooks service, and the Backend Services client of the
worklist's scheduled export).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from urllib.parse import quote

from launch import (
    AuthMethod,
    ConfigurationError,
    IssuerConfig,
    SigningAlg,
    load_issuers,
    patient_scopes,
)
from launch.authorize import requested_scopes
from launch.urls import normalise_iss
from smartapp.cds.catalogue import SERVICES as CDS_SERVICES
from smartapp.commands.evaluate import UsageError
from smartapp.coordinator.access import WORKLIST_SCOPES
from smartapp.settings import SettingsError, load_public_settings

Section = Callable[[IssuerConfig, str], list[tuple[str, str]]]
JWKS_PATH = "/.well-known/jwks.json"
CDS_DISCOVERY_PATH = "/cds-services"


def smart_app_launch(issuer: IssuerConfig, base_url: str) -> list[tuple[str, str]]:
    """SMART App Launch: where the EHR opens the app and sends the browser back, what it asks."""
    return [
        ("client_id", issuer.client_id),
        ("launch URL (EHR launch)", f"{base_url}/launch"),
        ("redirect URI", f"{base_url}/callback"),
        ("scopes (EHR launch)", requested_scopes(issuer)),
        ("standalone launch URL", f"{base_url}/standalone?iss={quote(issuer.iss, safe=':/')}"),
        ("scopes (standalone launch)", requested_scopes(issuer, standalone=True)),
        ("session renewal", _renewal(issuer)),
    ]


def patient_portal(issuer: IssuerConfig, base_url: str) -> list[tuple[str, str]]:
    """The view for patients and caregivers, launched from the patient portal (read-only)."""
    portal = patient_scopes(issuer)
    return [
        ("launch URL (portal launch)", f"{base_url}/patient/launch"),
        ("redirect URI", f"{base_url}/patient/callback"),
        ("scopes (portal launch)", requested_scopes(issuer, scopes=portal)),
        (
            "standalone launch URL",
            f"{base_url}/patient/standalone?iss={quote(issuer.iss, safe=':/')}",
        ),
        ("scopes (standalone launch)", requested_scopes(issuer, standalone=True, scopes=portal)),
        ("users", "the patient (fhirUser Patient) or a caregiver (fhirUser RelatedPerson)"),
    ]


def worklist(issuer: IssuerConfig, base_url: str) -> list[tuple[str, str]]:
    """The coordinators' worklist page, reached without a patient (SMARTAPP_WORKLIST_USERS)."""
    return [
        ("EHR launch without a patient", f"{base_url}/launch (the launch URL above)"),
        ("redirect URI", f"{base_url}/worklist/callback"),
        (
            "standalone launch URL",
            f"{base_url}/worklist/standalone?iss={quote(issuer.iss, safe=':/')}",
        ),
        (
            "scopes (standalone launch)",
            requested_scopes(issuer, standalone=True, scopes=WORKLIST_SCOPES),
        ),
        ("users", "the coordinators named in SMARTAPP_WORKLIST_USERS"),
    ]


def _renewal(issuer: IssuerConfig) -> str:
    """Whether the scopes let the app refresh its access token (SMART: offline/online_access)."""
    asked = [s for s in issuer.scopes.split() if s in ("offline_access", "online_access")]
    if asked:
        return f"refresh tokens ({' '.join(asked)})"
    return (
        "none: the scopes ask for neither offline_access nor online_access, so a session"
        " ends when its first access token expires"
    )


def client_authentication(issuer: IssuerConfig, base_url: str) -> list[tuple[str, str]]:
    """How the app authenticates at the token endpoint, and where its public keys are."""
    method = issuer.auth_method
    rows = [("token endpoint authentication", method.value)]
    if method is AuthMethod.PRIVATE_KEY_JWT:
        rows.append(("JWKS URL", f"{base_url}{JWKS_PATH}"))
        rows.append(("signing algorithm", str(issuer.signing_alg)))
    elif method is AuthMethod.NONE:
        rows.append(("client type", "public (PKCE S256, no secret)"))
    else:
        rows.append(("client secret", f"kept in the app's ${issuer.client_secret_env}"))
    return rows


def framing(issuer: IssuerConfig, base_url: str) -> list[tuple[str, str]]:
    """Which EHR pages may show the app in a frame (CSP frame-ancestors)."""
    allowed = " ".join(issuer.frame_ancestors)
    return [("EHR origins allowed to frame the app", allowed or "none: the EHR cannot frame it")]


def cds_hooks(issuer: IssuerConfig, base_url: str) -> list[tuple[str, str]]:
    """The CDS Hooks service: where the EHR discovers it, and the JWTs it must sign."""
    discovery = f"{base_url}{CDS_DISCOVERY_PATH}"
    rows = [
        ("discovery URL", discovery),
        ("services", ", ".join(f"{s.id} ({s.hook})" for s in CDS_SERVICES)),
    ]
    if not issuer.accepts_cds_client:
        rows.append(
            (
                "CDS client",
                "none configured: set cds_client_iss and cds_jwks_url (or cds_jwks) for this"
                " issuer before the EHR calls the service",
            )
        )
        return rows
    keys = issuer.cds_jwks_url or "inline in the issuers file (cds_jwks)"
    return [
        *rows,
        ("CDS client iss (JWT iss)", str(issuer.cds_client_iss)),
        ("CDS client JWKS", keys),
        ("JWT algorithms accepted", "ES384, RS384 (each JWT names its kid)"),
        (
            "JWT aud",
            f"the URL called: {discovery}, {discovery}/{{id}} or {discovery}/{{id}}/feedback",
        ),
        ("JWT lifetime", "exp at most 5 minutes after iat; each jti used once"),
        ("fhirServer with fhirAuthorization", str(issuer.cds_fhir_server)),
    ]


def backend_services(issuer: IssuerConfig, base_url: str) -> list[tuple[str, str]]:
    """The worklist's SMART Backend Services client: a system client, its keys, its scopes."""
    client = issuer.backend_client_id or (
        "not registered yet: register a client with these values, then set backend_client_id"
    )
    return [
        ("client_id", client),
        ("grant type", "client_credentials (no user; started by the organisation's scheduler)"),
        ("token endpoint authentication", "private_key_jwt"),
        ("JWKS URL", f"{base_url}{JWKS_PATH}"),
        ("signing algorithm", str(issuer.signing_alg or SigningAlg.RS384)),
        ("scopes", issuer.backend_scopes),
        ("Bulk Data export", "Group/[id]/$export (or Patient/$export) with _type; NDJSON files"),
    ]


SECTIONS: tuple[tuple[str, Section], ...] = (
    ("SMART App Launch", smart_app_launch),
    ("Patient portal", patient_portal),
    ("Worklist", worklist),
    ("Client authentication", client_authentication),
    ("Embedding", framing),
    ("CDS Hooks", cds_hooks),
    ("SMART Backend Services (the worklist's scheduled export)", backend_services),
)


def sheet(issuer: IssuerConfig, base_url: str) -> str:
    """The registration sheet of one issuer, as text."""
    lines = [
        f"Registration of the clozapine monitoring app at {issuer.name}",
        f"  FHIR base URL (iss): {issuer.iss}",
        f"  app public base URL (SMARTAPP_BASE_URL): {base_url}",
    ]
    for title, section in SECTIONS:
        lines += ["", title]
        lines += [f"  {label}: {value}" for label, value in section(issuer, base_url)]
    return "\n".join(lines) + "\n"


def chosen_issuer(issuers: list[IssuerConfig], wanted: str | None) -> IssuerConfig:
    """The issuer named (by its `name` or its `iss`), or the only one; UsageError otherwise."""
    if wanted is None:
        if len(issuers) == 1:
            return issuers[0]
        raise UsageError(f"say which issuer (--issuer NAME): {_names(issuers)}")
    try:
        wanted_iss = normalise_iss(wanted)
    except ValueError:
        wanted_iss = None
    for issuer in issuers:
        if wanted in (issuer.name, issuer.iss) or issuer.iss == wanted_iss:
            return issuer
    raise UsageError(f"no issuer {wanted!r} in SMARTAPP_ISSUERS_FILE: {_names(issuers)}")


def _names(issuers: list[IssuerConfig]) -> str:
    return ", ".join(f"{issuer.name!r}" for issuer in issuers)


def run(args: argparse.Namespace) -> str:
    """What `smartapp registration` prints."""
    try:
        settings = load_public_settings()
        issuers = list(load_issuers(settings.issuers_file))
    except SettingsError as error:
        raise UsageError(str(error)) from None
    except ConfigurationError as error:
        raise UsageError(f"SMARTAPP_ISSUERS_FILE: {error.message}") from None
    return sheet(chosen_issuer(issuers, args.issuer), settings.base_url)
