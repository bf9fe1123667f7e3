"""SMART and OpenID discovery documents, the sandbox JWKS, and the SMART style sheet.

SMART App Launch 2.2, "Conformance" (`.well-known/smart-configuration`, relative to `iss`):
https://hl7.org/fhir/smart-app-launch/conformance.html
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from sandbox.ehr.assertion import ASSERTION_ALGORITHMS
from sandbox.ehr.clients import AUTH_METHODS
from sandbox.ehr.config import SandboxConfig
from sandbox.ehr.keys import SIGNING_ALG
from sandbox.ehr.scopes import CONTEXT_SCOPES
from sandbox.ehr.services import services

bp = Blueprint("discovery", __name__)

# Only what this server really does (no standalone encounter picker).
CAPABILITIES = [
    "launch-ehr",
    "launch-standalone",
    "authorize-post",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "sso-openid-connect",
    "context-passthrough-banner",
    "context-passthrough-style",
    "context-ehr-patient",
    "context-ehr-encounter",
    "context-standalone-patient",
    "permission-offline",
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
]
RESOURCE_SCOPES_SUPPORTED = [
    "patient/*.cruds",
    "patient/*.rs",
    "user/*.cruds",
    "user/*.rs",
    "patient/*.read",
    "patient/*.write",
    "user/*.read",
    "user/*.write",
    "system/*.rs",
    "system/*.read",
]
# Values an app may use to style itself like the EHR (SMART "smart_style_url").
SMART_STYLE = {
    "color_background": "#f6f8fa",
    "color_error": "#b3261e",
    "color_highlight": "#005a9c",
    "color_modal_backdrop": "rgba(0, 0, 0, 0.4)",
    "color_success": "#1b6e3a",
    "color_text": "#1f2328",
    "dim_border_radius": "4px",
    "dim_font_size": "14px",
    "dim_spacing_size": "16px",
    "font_family_body": "system-ui, sans-serif",
    "font_family_heading": "system-ui, sans-serif",
}


def smart_configuration(config: SandboxConfig) -> dict[str, Any]:
    origin = config.origin
    return {
        "issuer": origin,
        "jwks_uri": f"{origin}/.well-known/jwks.json",
        "authorization_endpoint": f"{origin}/auth/authorize",
        "token_endpoint": f"{origin}/auth/token",
        "introspection_endpoint": f"{origin}/auth/introspect",
        "revocation_endpoint": f"{origin}/auth/revoke",
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "scopes_supported": sorted(CONTEXT_SCOPES) + RESOURCE_SCOPES_SUPPORTED,
        "code_challenge_methods_supported": ["S256"],
        "capabilities": CAPABILITIES,
    }


def openid_configuration(config: SandboxConfig) -> dict[str, Any]:
    document = smart_configuration(config)
    document.pop("capabilities")
    document.update(
        {
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [SIGNING_ALG],
            "claims_supported": ["sub", "fhirUser", "iss", "aud", "exp", "iat", "nonce"],
        }
    )
    return document


def _public_json(data: dict[str, Any]) -> Response:
    response = jsonify(data)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/.well-known/smart-configuration")
@bp.get("/fhir/.well-known/smart-configuration")
def smart_configuration_view() -> Response:
    return _public_json(smart_configuration(services().config))


@bp.get("/.well-known/openid-configuration")
def openid_configuration_view() -> Response:
    return _public_json(openid_configuration(services().config))


@bp.get("/.well-known/jwks.json")
def jwks_view() -> Response:
    return _public_json(services().server.signing_key.public_jwks())


@bp.get("/smart-style.json")
def smart_style_view() -> Response:
    return _public_json(SMART_STYLE)
