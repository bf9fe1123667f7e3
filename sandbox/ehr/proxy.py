"""The FHIR proxy at `/fhir`: checks the bearer token, enforces its scopes, applies the vendor
profile and simulated faults, forwards to the engine, and rewrites the engine's URLs to ours.
Answer faults reshape the engine's real answer on its way back (answers.py).

Missing or invalid token: 401 with `WWW-Authenticate`; scopes that do not allow the call: 403;
both with an OperationOutcome. `/fhir/metadata` needs no token and gains the SMART `oauth-uris`
security extension (SMART App Launch 2.2, "Conformance").
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import MissingAuthorizationError, OAuth2Error, ResourceProtector
from authlib.oauth2.rfc6750 import BearerTokenValidator, InvalidTokenError
from flask import Blueprint, Response, request

from sandbox.ehr import answers, vendors
from sandbox.ehr.access import (
    Check,
    Denied,
    FhirCall,
    Unsupported,
    bundle_in_compartment,
    check_access,
    classify,
    in_compartment,
    readable_includes,
)
from sandbox.ehr.engine import EngineError
from sandbox.ehr.faults import (
    HTTP_FAULTS,
    NEXT_PAGE_PARAMETER,
    NEXT_PAGE_STATUSES,
    SEARCH_ANSWER_FAULTS,
    FaultKind,
    Surface,
)
from sandbox.ehr.scopes import Interaction, ResourceScope, resource_scopes
from sandbox.ehr.services import EhrServices, services
from sandbox.ehr.store import Store, Token

bp = Blueprint("fhir", __name__, url_prefix="/fhir")

FHIR_JSON = "application/fhir+json"
REALM = "sandbox-ehr"
FORWARDED_REQUEST_HEADERS = (
    "Accept",
    "Content-Type",
    "If-None-Exist",
    "If-Match",
    "If-None-Match",
    "If-Modified-Since",
    "Prefer",
)
FORWARDED_RESPONSE_HEADERS = (
    "Content-Type",
    "Location",
    "Content-Location",
    "ETag",
    "Last-Modified",
)
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
SECURITY_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service"


class _Validator(BearerTokenValidator):  # type: ignore[misc]
    def __init__(self, store: Store) -> None:
        super().__init__(realm=REALM)
        self.store = store

    def authenticate_token(self, token_string: str) -> Token | None:
        return self.store.by_access_token(token_string)


def outcome(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """An OperationOutcome response with one error issue."""
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    response = Response(json.dumps(body), status, content_type=FHIR_JSON)
    response.headers.update(headers or {})
    return response


def authenticate(ehr: EhrServices) -> Token | Response:
    """The caller's live token, or the 401 to answer (missing, invalid or expired token)."""
    protector = ResourceProtector()
    protector.register_token_validator(_Validator(ehr.store))
    try:
        token: Token = protector.validate_request(scopes=None, request=request)
    except MissingAuthorizationError:
        # RFC 6750 section 3.1: no error code when the request carried no credentials.
        headers = {"WWW-Authenticate": f'Bearer realm="{REALM}"'}
        return outcome(401, "login", "An access token is required", headers)
    except OAuth2Error:
        invalid = InvalidTokenError(realm=REALM)
        headers = dict(invalid.get_headers()[-1:])
        return outcome(401, "login", "Invalid, expired or revoked access token", headers)
    launch = token.context.launch_id
    if ehr.faults.take(
        (FaultKind.TOKEN_EXPIRED,), on=Surface.FHIR, client_id=token.client_id, launch=launch
    ):
        expired = InvalidTokenError(description="The access token expired", realm=REALM)
        headers = dict(expired.get_headers()[-1:])
        return outcome(401, "expired", "The access token expired", headers)
    return token


def _http_fault(ehr: EhrServices, token: Token) -> Response | None:
    client_id, launch = token.client_id, token.context.launch_id
    slow = ehr.faults.take((FaultKind.SLOW,), on=Surface.FHIR, client_id=client_id, launch=launch)
    if slow is not None:
        time.sleep(slow.delay_s)
    kinds = tuple(k for k in HTTP_FAULTS if k is not FaultKind.SLOW)
    fault = ehr.faults.take(kinds, on=Surface.FHIR, client_id=client_id, launch=launch)
    if fault is None:
        return None
    headers = {}
    if fault.retry_after_s is not None and fault.kind is not FaultKind.SERVER_ERROR:
        headers["Retry-After"] = str(fault.retry_after_s)
    if fault.kind is FaultKind.RATE_LIMIT:
        return outcome(429, "throttled", "Too many requests (simulated)", headers)
    if fault.kind is FaultKind.UNAVAILABLE:
        return outcome(503, "transient", "Service unavailable (simulated)", headers)
    return outcome(500, "exception", "Internal server error (simulated)")


def _without_conditional_create(ehr: EhrServices, token: Token | None) -> bool:
    """Whether the no_conditional_create fault is in force for this caller."""
    client_id = token.client_id if token is not None else None
    launch = token.context.launch_id if token is not None else None
    kinds = (FaultKind.NO_CONDITIONAL_CREATE,)
    return ehr.faults.take(kinds, on=Surface.FHIR, client_id=client_id, launch=launch) is not None


def _vendor(ehr: EhrServices, token: Token | None) -> str:
    if token is None:
        return ehr.vendors.resolve(client_id=None, launch=None)
    client = ehr.clients.get(token.client_id)
    return ehr.vendors.resolve(
        client_id=token.client_id,
        launch=token.context.launch_id,
        client_vendor=client.vendor if client else None,
        launch_vendor=token.context.vendor,
    )


def _rewrite(ehr: EhrServices, text: str) -> str:
    return text.replace(ehr.engine.base, ehr.config.fhir_base)


def _relay(ehr: EhrServices, upstream: Any, body: bytes | None = None) -> Response:
    content = body if body is not None else upstream.content
    if content and "json" in upstream.headers.get("Content-Type", ""):
        content = _rewrite(ehr, content.decode("utf-8")).encode("utf-8")
    response = Response(content, upstream.status_code)
    for name in FORWARDED_RESPONSE_HEADERS:
        if name in upstream.headers:
            value = upstream.headers[name]
            response.headers[name] = _rewrite(ehr, value) if "Location" in name else value
    return response


@bp.get("/metadata")
def metadata() -> Response:
    """The engine's CapabilityStatement with SMART's oauth-uris; no token needed."""
    ehr = services()
    try:
        upstream = ehr.engine.request("GET", "metadata", headers={"Accept": FHIR_JSON})
    except EngineError:
        return outcome(502, "transient", "The FHIR engine is not reachable")
    if upstream.status_code != 200:
        return _relay(ehr, upstream)
    capability = json.loads(_rewrite(ehr, upstream.text))
    token = ehr.store.by_access_token(_bearer() or "")
    capability = vendors.adjust_capabilities(_vendor(ehr, token), capability)
    if _without_conditional_create(ehr, token):
        for rest in capability.get("rest", []):
            for resource in rest.get("resource", []):
                resource.pop("conditionalCreate", None)
    origin = ehr.config.origin
    for rest in capability.get("rest", []):
        rest["security"] = {
            "service": [{"coding": [{"system": SECURITY_SERVICE, "code": "SMART-on-FHIR"}]}],
            "extension": [
                {
                    "url": OAUTH_URIS,
                    "extension": [
                        {"url": "authorize", "valueUri": f"{origin}/auth/authorize"},
                        {"url": "token", "valueUri": f"{origin}/auth/token"},
                        {"url": "introspect", "valueUri": f"{origin}/auth/introspect"},
                        {"url": "revoke", "valueUri": f"{origin}/auth/revoke"},
                    ],
                }
            ],
        }
    return Response(json.dumps(capability), 200, content_type=FHIR_JSON)


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


@bp.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def fhir(path: str) -> Response:
    ehr = services()
    authenticated = authenticate(ehr)
    if isinstance(authenticated, Response):
        return authenticated
    token = authenticated
    refusal = _http_fault(ehr, token)
    if refusal is not None:
        return refusal
    try:
        resource_type, resource_id, interaction = classify(request.method, path.split("/"))
    except Unsupported as error:
        return outcome(400, "not-supported", str(error))
    if interaction is Interaction.SEARCH and NEXT_PAGE_PARAMETER in request.args:
        return _failing_next_page(request.args[NEXT_PAGE_PARAMETER])
    params = _params(interaction)
    vendor = _vendor(ehr, token)
    refused = vendors.refuse(vendor, resource_type, interaction is Interaction.SEARCH, params)
    if refused is None:
        sent = request.headers.get(vendors.EPIC_CLIENT_HEADER)
        refused = vendors.client_header_refusal(vendor, sent, token.client_id)
    if refused is not None:
        return outcome(refused.status, refused.code, refused.message)
    body = _body_json(interaction)
    if isinstance(body, Response):
        return body
    call = FhirCall(resource_type, resource_id, interaction, params, body)
    patient = token.context.patient
    scopes = resource_scopes(token.scope)
    try:
        check = check_access(scopes, patient, call)
        if check is Check.EXISTING_IN_COMPARTMENT and patient is not None:
            existing = ehr.engine.read(resource_type, resource_id or "")
            if existing is not None and not in_compartment(existing, patient):
                raise Denied("That resource belongs to another patient")
    except Denied as error:
        return outcome(403, "forbidden", str(error), {"WWW-Authenticate": _insufficient()})
    except EngineError:
        return outcome(502, "transient", "The FHIR engine is not reachable")
    return _forward(ehr, call, vendor, check, path, token, scopes)


def _failing_next_page(status: str) -> Response:
    """The next page a next_link_fails searchset leads to: it answers its status at every try."""
    code = int(status) if status.isdigit() else 0
    if code not in NEXT_PAGE_STATUSES:
        return outcome(400, "invalid", "Unknown next page")
    if code == 404:
        return outcome(404, "not-found", "The next page is no longer available (simulated)")
    return outcome(500, "exception", "Internal server error on the next page (simulated)")


def _forward(
    ehr: EhrServices,
    call: FhirCall,
    vendor: str,
    check: Check,
    path: str,
    token: Token,
    scopes: list[ResourceScope],
) -> Response:
    patient = token.context.patient
    headers = {k: request.headers[k] for k in FORWARDED_REQUEST_HEADERS if k in request.headers}
    if "If-None-Exist" in headers and _without_conditional_create(ehr, token):
        del headers["If-None-Exist"]  # an EHR without conditional create creates regardless
    method, body = request.method, request.get_data()
    params: list[tuple[str, str]] | None = None
    if call.interaction is Interaction.SEARCH:
        # POST _search goes on as GET: one place applies the vendor's parameter rules.
        method, path, body = "GET", call.resource_type, b""
        headers.pop("Content-Type", None)
        adjusted = vendors.adjust_params(vendor, call.params)
        params = [(name, value) for name, values in adjusted.items() for value in values]
    try:
        upstream = ehr.engine.request(
            method, path, params=params, body=body or None, headers=headers
        )
    except EngineError:
        return outcome(502, "transient", "The FHIR engine is not reachable")
    if check is Check.RESULT_IN_COMPARTMENT and upstream.status_code == 200 and patient:
        resource = upstream.json()
        allowed = (
            bundle_in_compartment(resource, patient)
            if resource.get("resourceType") == "Bundle"
            else in_compartment(resource, patient)
        )
        if not allowed:
            return outcome(
                403,
                "forbidden",
                "That resource belongs to another patient",
                {"WWW-Authenticate": _insufficient()},
            )
    answer: dict[str, Any] | None = None
    includes = {"_include", "_revinclude"} & {name.split(":")[0] for name in call.params}
    if call.interaction is Interaction.SEARCH and includes and upstream.status_code == 200:
        answer = readable_includes(upstream.json(), scopes, patient)
    if upstream.status_code == 200:
        answer = _answer_fault(ehr, call, token, upstream, answer)
    if answer is not None:
        return _relay(ehr, upstream, json.dumps(answer).encode("utf-8"))
    return _relay(ehr, upstream)


def _answer_fault(
    ehr: EhrServices, call: FhirCall, token: Token, upstream: Any, answer: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The answer reshaped by an answer fault in force for this call; else `answer` as it was."""
    caller = {"client_id": token.client_id, "launch": token.context.launch_id}
    if call.interaction is Interaction.SEARCH:
        fault = ehr.faults.take(
            SEARCH_ANSWER_FAULTS, on=Surface.FHIR, resource_type=call.resource_type, **caller
        )
        if fault is None:
            return answer
        bundle = answer if answer is not None else upstream.json()
        if fault.kind is FaultKind.PAGING_CUT_SHORT:
            return answers.cut_short(bundle)
        if fault.kind is FaultKind.NEXT_LINK_FAILS:
            next_url = (
                f"{ehr.config.fhir_base.rstrip('/')}/{call.resource_type}"
                f"?{NEXT_PAGE_PARAMETER}={fault.status}"
            )
            return answers.failing_next(bundle, next_url)
        assert fault.variant is not None  # noqa: S101  # validated in fault_from_json
        return answers.malformed(bundle, fault.variant, call.resource_type)
    if call.interaction is Interaction.READ and call.resource_type == "Patient":
        kinds = (FaultKind.PATIENT_OTHER_ID,)
        fault = ehr.faults.take(kinds, on=Surface.FHIR, resource_type="Patient", **caller)
        if fault is not None:
            try:
                other = ehr.engine.read("Patient", fault.answer_id) if fault.answer_id else None
            except EngineError:
                other = None
            return answers.other_patient(upstream.json(), other)
    return answer


def _params(interaction: Interaction) -> dict[str, list[str]]:
    pairs = list(parse_qsl(request.query_string.decode("utf-8"), keep_blank_values=True))
    if interaction is Interaction.SEARCH and request.method == "POST":
        pairs += parse_qsl(request.get_data(as_text=True), keep_blank_values=True)
    params: dict[str, list[str]] = {}
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def _body_json(interaction: Interaction) -> dict[str, Any] | Response | None:
    if interaction not in (Interaction.CREATE, Interaction.UPDATE) or request.method == "PATCH":
        return None
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        return outcome(400, "structure", "The request body is not JSON")
    if not isinstance(body, dict):
        return outcome(400, "structure", "The request body must be a FHIR resource")
    return body


def _insufficient() -> str:
    return f'Bearer realm="{REALM}", error="insufficient_scope"'
