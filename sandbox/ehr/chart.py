"""The chart: a list of the synthetic patients, and a patient's chart embedding the SMART app.

The app opens in an `<iframe>` on another site (the chart is on 127.0.0.1, the app on
localhost), with the `sandbox` attribute EHRs set, so third-party-cookie and framing problems
show here as they would in a real EHR.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request

from sandbox.ehr.cds_hooks import run_hook
from sandbox.ehr.config import VENDORS
from sandbox.ehr.engine import EngineError, FhirJson
from sandbox.ehr.services import EhrServices, services

bp = Blueprint("chart", __name__, url_prefix="/chart")

IFRAME_SANDBOX = (
    "allow-forms allow-modals allow-popups allow-popups-to-escape-sandbox "
    "allow-same-origin allow-scripts allow-downloads"
)


@dataclass(frozen=True, slots=True)
class Banner:
    """What the chart's patient banner shows."""

    patient_id: str
    name: str
    gender: str
    birth_date: str
    mrn: str


@bp.get("")
@bp.get("/")
def patient_list() -> str:
    ehr = services()
    return render_template("chart_list.html", patients=ehr.patients(), config=ehr.config)


@bp.get("/<patient_id>")
def patient_chart(patient_id: str) -> Any:
    ehr = services()
    resource = _read_patient(ehr, patient_id)
    if resource is None:
        abort(404)
    client_id = request.args.get("client_id") or ehr.config.app_client_id
    client = ehr.clients.get(client_id)
    if client is None:
        abort(400, "Unknown client_id")
    vendor = request.args.get("vendor")
    if vendor is not None and vendor not in VENDORS:
        abort(400, "Unknown vendor")
    launch = ehr.create_launch(
        patient_id,
        encounter=ehr.latest_encounter(patient_id),
        client_id=client_id,
        vendor=vendor,
        smart_style_url=f"{ehr.config.origin}/smart-style.json",
    )
    if client_id == ehr.config.app_client_id:
        launch_url = ehr.config.app_launch_url
    else:
        launch_url = client.launch_url or ehr.config.app_launch_url
    query = urlencode({"iss": ehr.config.fhir_base, "launch": launch.launch_id})
    # The card just acted on (after an accept or an override) stays shown with its outcome.
    acted_on = ehr.board.card(patient_id, request.args.get("card", ""))
    patient_view = run_hook(ehr, "patient-view", patient_id)
    return render_template(
        "chart_patient.html",
        banner=banner_of(resource),
        entry=next((p for p in ehr.manifest if p.patient_id == patient_id), None),
        app_url=f"{launch_url}?{query}",
        iframe_sandbox=IFRAME_SANDBOX,
        client=client,
        vendor=vendor or "",
        vendors=VENDORS,
        patient_view=patient_view,
        acted=[acted_on] if acted_on is not None else [],
        today=(ehr.config.as_of or date.today()).isoformat(),
    )


def _read_patient(ehr: EhrServices, patient_id: str) -> FhirJson | None:
    try:
        return ehr.engine.read("Patient", patient_id)
    except EngineError:
        abort(502, "The FHIR engine is not reachable")


def banner_of(patient: FhirJson) -> Banner:
    names = patient.get("name") or [{}]
    official = next((n for n in names if n.get("use") == "official"), names[0])
    if official.get("text"):
        name = str(official["text"])
    else:
        name = " ".join([*official.get("given", []), official.get("family", "")]).strip()
    mrn = next(
        (
            str(i.get("value", ""))
            for i in patient.get("identifier", [])
            if any(c.get("code") == "MR" for c in i.get("type", {}).get("coding", []))
        ),
        "",
    )
    return Banner(
        patient_id=str(patient.get("id", "")),
        name=name or "(no name)",
        gender=str(patient.get("gender", "")),
        birth_date=str(patient.get("birthDate", "")),
        mrn=mrn,
    )
