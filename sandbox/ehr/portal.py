"""The patient portal: a patient, or a caregiver of one, opens the app's patient-facing view.

As MyChart and other portals do, the portal launches the SMART app with the portal user signed in:
the patient (fhirUser a Patient) or a proxy (fhirUser a RelatedPerson linked to the patient). The
app opens in an `<iframe>` on another site, with the sandbox attributes the chart uses.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, render_template, request

from sandbox.ehr.chart import IFRAME_SANDBOX, banner_of
from sandbox.ehr.engine import EngineError, FhirJson
from sandbox.ehr.services import EhrServices, services

bp = Blueprint("portal", __name__, url_prefix="/portal")

VIEWERS = ("patient", "caregiver")


@bp.get("")
@bp.get("/")
def portal_home() -> str:
    """Every synthetic patient, to sign in as that patient or as their caregiver."""
    return render_template("portal_list.html", patients=services().patients())


@bp.get("/<patient_id>")
def portal_patient(patient_id: str) -> Any:
    """The portal page of one patient, signed in as the patient or (`as=caregiver`) their proxy."""
    ehr = services()
    viewer = request.args.get("as", "patient")
    if viewer not in VIEWERS:
        abort(400, "as must be patient or caregiver")
    patient = _read(ehr, "Patient", patient_id)
    if patient is None:
        abort(404)
    caregiver = _caregiver(ehr, patient_id) if viewer == "caregiver" else None
    if viewer == "caregiver" and caregiver is None:
        abort(404, "This patient has no caregiver on file")
    user = f"RelatedPerson/{caregiver['id']}" if caregiver else f"Patient/{patient_id}"
    launch = ehr.create_launch(patient_id, client_id=ehr.config.app_client_id, portal_user=user)
    query = urlencode({"iss": ehr.config.fhir_base, "launch": launch.launch_id})
    return render_template(
        "portal_patient.html",
        banner=banner_of(patient),
        signed_in=_name(caregiver) if caregiver else banner_of(patient).name,
        viewer=viewer,
        app_url=f"{ehr.config.app_portal_launch_url}?{query}",
        iframe_sandbox=IFRAME_SANDBOX,
    )


def _read(ehr: EhrServices, resource_type: str, resource_id: str) -> FhirJson | None:
    try:
        return ehr.engine.read(resource_type, resource_id)
    except EngineError:
        abort(502, "The FHIR engine is not reachable")


def _caregiver(ehr: EhrServices, patient_id: str) -> FhirJson | None:
    try:
        found = ehr.engine.search("RelatedPerson", [("patient", patient_id), ("_count", "1")])
    except EngineError:
        abort(502, "The FHIR engine is not reachable")
    return found[0] if found else None


def _name(person: FhirJson) -> str:
    names = person.get("name") or [{}]
    text = names[0].get("text") or " ".join(
        [*names[0].get("given", []), names[0].get("family", "")]
    )
    return str(text).strip() or "(no name)"
