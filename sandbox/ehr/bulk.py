"""The Bulk Data export API of the sandbox EHR: kick-off, status, files, cancel.

FHIR Bulk Data Access 2.0 (https://hl7.org/fhir/uv/bulkdata/export.html):
`GET /fhir/Group/[id]/$export` and `GET /fhir/Patient/$export` (`Prefer: respond-async`, `_type`,
`_typeFilter`) answer 202 with `Content-Location`; the status URL answers 202 with `X-Progress`
and `Retry-After` while the job runs, then 200 with the manifest (`requiresAccessToken`: the
files need the same client's token), or 500 with an OperationOutcome when the job failed;
`DELETE` on it cancels or removes the job. Only `system/` scopes (SMART Backend Services) allow
an export. Faults (faults.py) strike the status URL (`on` export_status: rate_limit,
server_error, unavailable, export_failed) and the files (`on` export_file: server_error,
token_expired, file_cut_short; with `resource_type`, only the file of that type).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, Response, request

from sandbox.ehr.bulk_jobs import ExportJob, ExportRequestError, JobState, export_request
from sandbox.ehr.faults import FaultKind, Surface
from sandbox.ehr.proxy import REALM, authenticate, outcome
from sandbox.ehr.scopes import Interaction, resource_scopes
from sandbox.ehr.services import EhrServices, services
from sandbox.ehr.store import Token

bp = Blueprint("bulk", __name__, url_prefix="/fhir")

RETRY_AFTER_S = 1
_RANGE = re.compile(r"^bytes=(\d+)-$")


def _authorised(ehr: EhrServices) -> Token | Response:
    found = authenticate(ehr)
    if isinstance(found, Response):
        return found
    if not any(scope.context == "system" for scope in resource_scopes(found.scope)):
        return outcome(403, "forbidden", "A Bulk Data export needs system/ scopes")
    return found


@bp.get("/Group/<group_id>/$export")
def group_export(group_id: str) -> Response:
    return _kick_off(group_id)


@bp.get("/Patient/$export")
def patient_export() -> Response:
    return _kick_off(None)


def _kick_off(group_id: str | None) -> Response:
    ehr = services()
    token = _authorised(ehr)
    if isinstance(token, Response):
        return token
    if request.headers.get("Prefer", "").strip() != "respond-async":
        return outcome(400, "required", "A Bulk Data kick-off needs Prefer: respond-async")
    params = parse_qsl(request.query_string.decode("utf-8"), keep_blank_values=True)
    try:
        asked = export_request(request.url, group_id, params)
    except ExportRequestError as error:
        return outcome(400, "not-supported", str(error))
    scopes = [s for s in resource_scopes(token.scope) if s.context == "system"]
    refused = [t for t in asked.types if not any(s.grants(t, Interaction.SEARCH) for s in scopes)]
    if refused:
        return outcome(403, "forbidden", f"The granted scopes do not allow exporting {refused}")
    if group_id is not None and ehr.engine.read("Group", group_id) is None:
        return outcome(404, "not-found", f"Group/{group_id} does not exist")
    job = ehr.exports.start(token.client_id, asked, ehr.engine)
    response = Response(status=202)
    response.headers["Content-Location"] = f"{ehr.config.fhir_base}/$export-status/{job.job_id}"
    return response


@bp.route("/$export-status/<job_id>", methods=["GET", "DELETE"])
def status(job_id: str) -> Response:
    ehr = services()
    token = _authorised(ehr)
    if isinstance(token, Response):
        return token
    job = ehr.exports.get(job_id, token.client_id)
    if job is None:
        return outcome(404, "not-found", "No such export job (finished, deleted or expired)")
    if request.method == "DELETE":
        ehr.exports.delete(job_id, token.client_id)
        return Response(status=202)
    refusal = _status_fault(ehr, token)
    if refusal is not None:
        return refusal
    if job.state is JobState.IN_PROGRESS or job.polls_before_done > 0:
        job.polls_before_done -= 1
        response = Response(status=202)
        response.headers["X-Progress"] = job.progress
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response
    if job.state is JobState.FAILED:
        return outcome(500, "exception", f"The export failed: {job.failure}")
    return Response(json.dumps(_manifest(ehr, job)), 200, content_type="application/json")


def _status_fault(ehr: EhrServices, token: Token) -> Response | None:
    kinds = (
        FaultKind.RATE_LIMIT,
        FaultKind.UNAVAILABLE,
        FaultKind.SERVER_ERROR,
        FaultKind.EXPORT_FAILED,
    )
    fault = ehr.faults.take(kinds, on=Surface.EXPORT_STATUS, client_id=token.client_id, launch=None)
    if fault is None:
        return None
    if fault.kind is FaultKind.RATE_LIMIT:
        headers = {"Retry-After": str(fault.retry_after_s or RETRY_AFTER_S)}
        return outcome(429, "throttled", "Too many status requests (simulated)", headers)
    if fault.kind is FaultKind.UNAVAILABLE:
        headers = {"Retry-After": str(fault.retry_after_s)} if fault.retry_after_s else {}
        return outcome(503, "transient", "Service unavailable (simulated)", headers)
    if fault.kind is FaultKind.EXPORT_FAILED:
        return outcome(500, "exception", "The export failed: the database went away (simulated)")
    return outcome(500, "exception", "Internal server error (simulated)")


def _manifest(ehr: EhrServices, job: ExportJob) -> dict[str, Any]:
    base = f"{ehr.config.fhir_base}/$export-file/{job.job_id}"
    return {
        "transactionTime": job.transaction_time,
        "request": job.request.request_url,
        "requiresAccessToken": True,
        "output": [
            {"type": f.resource_type, "url": f"{base}/{f.name}", "count": f.count}
            for f in job.outputs
        ],
        "error": [{"type": "OperationOutcome", "url": f"{base}/{f.name}"} for f in job.errors],
    }


@bp.get("/$export-file/<job_id>/<name>")
def export_file(job_id: str, name: str) -> Response:
    ehr = services()
    token = authenticate(ehr)
    if isinstance(token, Response):
        return token
    caller: dict[str, Any] = {"client_id": token.client_id, "launch": None}
    job = ehr.exports.get(job_id, token.client_id)
    found = job.file(name) if job is not None and job.state is JobState.COMPLETE else None
    if found is None:
        return outcome(404, "not-found", "No such export file")
    caller["resource_type"] = found.resource_type
    if ehr.faults.take((FaultKind.TOKEN_EXPIRED,), on=Surface.EXPORT_FILE, **caller):
        header = f'Bearer realm="{REALM}", error="invalid_token", error_description="expired"'
        return outcome(401, "expired", "The access token expired", {"WWW-Authenticate": header})
    kinds = (FaultKind.SERVER_ERROR, FaultKind.UNAVAILABLE, FaultKind.FILE_CUT_SHORT)
    fault = ehr.faults.take(kinds, on=Surface.EXPORT_FILE, **caller)
    if fault is not None and fault.kind is not FaultKind.FILE_CUT_SHORT:
        return outcome(
            500 if fault.kind is FaultKind.SERVER_ERROR else 503, "exception", "simulated"
        )
    content, start = found.content, 0
    matched = _RANGE.match(request.headers.get("Range", ""))
    if matched and int(matched[1]) < len(content):
        start = int(matched[1])
    body = content[start:]
    response = Response(status=206 if start else 200, content_type="application/fhir+ndjson")
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Content-Length"] = str(len(body))
    if start:
        response.headers["Content-Range"] = f"bytes {start}-{len(content) - 1}/{len(content)}"
    if fault is not None:  # file_cut_short: half the bytes, then the connection closes
        half = body[: len(body) // 2]
        response.response = [half]
        response.headers["Connection"] = "close"
        return response
    response.set_data(body)
    response.headers["Content-Length"] = str(len(body))
    return response
