"""Test-control API under `/_sandbox` (loopback callers only): launches, faults, vendors, clients.

POST   /_sandbox/launches  {"patient", "practitioner"?, "encounter"?, "client_id"?,
                            "vendor"?, "need_patient_banner"?, "smart_style_url"?,
                            "portal_user"?: "Patient/<id>" | "RelatedPerson/<id>",
                            "faults"?: [fault, ...]}
       -> 201 {"launch", "iss", "patient", "practitioner", "encounter", "launch_url"?}
POST   /_sandbox/faults    fault = {"fault", "client_id"? | "launch"?, "count"?,
                                    "retry_after"?, "delay"?, "on"?: "fhir" | "token",
                                    "resource_type"?, "variant"?, "answer_id"?, "status"?}
       (malformed_searchset needs resource_type and variant: entry_object, entry_string,
        entry_number, null_resource, missing_resource_type, wrong_resource_type;
        paging_cut_short needs resource_type; next_link_fails needs resource_type, and its
        next page answers status, 500 or 404 (500 when not given), at every try;
        patient_other_id answers Patient reads with answer_id's record, or under another id;
        on export_status / export_file strike a Bulk Data job's status URL or files, the
        files of one resource_type only when it is given: export_failed, file_cut_short)
       -> 201 fault with its "id"
GET    /_sandbox/faults    -> 200 {"faults": [...]}
DELETE /_sandbox/faults[?client_id=|?launch=]  -> 200 {"removed": n}
PUT    /_sandbox/vendor    {"vendor", "client_id"? | "launch"?}  -> 200
POST   /_sandbox/clients   {"client_id", "token_endpoint_auth_method", "redirect_uris",
                            "scope", "client_secret"? | "jwks"? | "jwks_uri"?, "vendor"?,
                            "access_token_lifetime_s"?}  -> 201
PUT    /_sandbox/cds       {"services_url"?, "mode"?: "prefetch" | "fhir-authorization"}
       -> 200 {"services_url", "mode"} (the CDS Hooks service the chart calls, and how)
POST   /_sandbox/reset     -> 200 (faults and vendor switches cleared)
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, request
from werkzeug.exceptions import HTTPException

from sandbox.ehr.clients import client_from_dict
from sandbox.ehr.config import VENDORS, ConfigError
from sandbox.ehr.faults import FaultError, fault_from_json
from sandbox.ehr.services import services

bp = Blueprint("control", __name__, url_prefix="/_sandbox")


@bp.before_request
def loopback_only() -> None:
    address = request.remote_addr or ""
    try:
        if ipaddress.ip_address(address).is_loopback:
            return
    except ValueError:
        pass
    abort(403)


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException) -> tuple[Response, int]:
    return jsonify({"error": error.name, "detail": error.description}), error.code or 500


def _json() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "The body must be a JSON object")
    return data


@bp.post("/launches")
def create_launch() -> tuple[Response, int]:
    ehr = services()
    data = _json()
    patient = data.get("patient")
    if not isinstance(patient, str) or not patient:
        abort(400, "patient is required")
    vendor = data.get("vendor")
    if vendor is not None and vendor not in VENDORS:
        abort(400, f"vendor must be one of {VENDORS}")
    try:
        faults = [fault_from_json(item) for item in data.get("faults", [])]
    except (FaultError, TypeError) as error:
        abort(400, str(error))
    encounter = data["encounter"] if "encounter" in data else ehr.latest_encounter(patient)
    launch = ehr.create_launch(
        patient,
        practitioner=data.get("practitioner"),
        encounter=encounter,
        client_id=data.get("client_id"),
        vendor=vendor,
        need_patient_banner=bool(data.get("need_patient_banner", False)),
        smart_style_url=data.get("smart_style_url"),
        portal_user=_portal_user(data.get("portal_user")),
    )
    for fault in faults:
        fault.launch = launch.launch_id
        ehr.faults.add(fault)
    answer = {
        "launch": launch.launch_id,
        "iss": ehr.config.fhir_base,
        "patient": launch.patient,
        "practitioner": launch.practitioner,
        "encounter": launch.encounter,
    }
    client = ehr.clients.get(launch.client_id)
    if client and client.launch_url:
        query = urlencode({"iss": ehr.config.fhir_base, "launch": launch.launch_id})
        answer["launch_url"] = f"{client.launch_url}?{query}"
    return jsonify(answer), 201


def _portal_user(value: object) -> str | None:
    """`Patient/x` or `RelatedPerson/y`: the portal user a launch signs in instead of a
    practitioner."""
    if value is None:
        return None
    kind, _, user_id = str(value).partition("/")
    if kind not in ("Patient", "RelatedPerson") or not user_id:
        abort(400, "portal_user must be Patient/<id> or RelatedPerson/<id>")
    return str(value)


@bp.post("/faults")
def add_fault() -> tuple[Response, int]:
    try:
        fault = fault_from_json(_json())
    except FaultError as error:
        abort(400, str(error))
    services().faults.add(fault)
    return jsonify(fault.as_json()), 201


@bp.get("/faults")
def list_faults() -> Response:
    return jsonify({"faults": [fault.as_json() for fault in services().faults.all()]})


@bp.delete("/faults")
def clear_faults() -> Response:
    removed = services().faults.clear(
        client_id=request.args.get("client_id"), launch=request.args.get("launch")
    )
    return jsonify({"removed": removed})


@bp.put("/vendor")
def set_vendor() -> Response:
    data = _json()
    try:
        services().vendors.set(
            str(data.get("vendor")), client_id=data.get("client_id"), launch=data.get("launch")
        )
    except ValueError as error:
        abort(400, str(error))
    return jsonify({"vendor": data.get("vendor")})


@bp.post("/clients")
def register_client() -> tuple[Response, int]:
    data = _json()
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        abort(400, "client_id is required")
    try:
        client = client_from_dict(client_id, data)
    except ConfigError as error:
        abort(400, str(error))
    services().clients.register(client)
    return jsonify({"client_id": client.client_id}), 201


@bp.put("/cds")
def configure_cds() -> Response:
    data = _json()
    cds = services().cds
    for name in ("services_url", "mode"):
        if name in data and not isinstance(data[name], str):
            abort(400, f"{name} must be a string")
    try:
        cds.configure(services_url=data.get("services_url"), mode=data.get("mode"))
    except ValueError as error:
        abort(400, str(error))
    return jsonify({"services_url": cds.services_url, "mode": cds.mode})


@bp.post("/reset")
def reset() -> Response:
    ehr = services()
    ehr.faults.clear()
    ehr.vendors.reset(ehr.config.default_vendor)
    return jsonify({"reset": True})
