"""The patient portal's routes: launch (from the portal or standalone), the page, the calendar file.

The page reads and evaluates once, with the same evaluation as the prescriber's page
(smartapp.ehr.evaluation), then renders plain words; a GET changes nothing anywhere. There is
no write-back, no registry administration and no clinician wording here. When the record cannot
be read or evaluated, the page says that no recent result was found and to call the care team.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, redirect, render_template, url_for
from flask import Response as FlaskResponse
from werkzeug.wrappers import Response

from fhir_client import FhirError
from fhir_mappings.person_name import person_name
from launch import patient_scopes
from smartapp.clock import now_utc
from smartapp.ehr.access import EhrAccess
from smartapp.ehr.patient_identity import launch_patient
from smartapp.ehr.request import request_access, request_evaluation
from smartapp.errors import UnusableRecord
from smartapp.patient.calendar_file import blood_test_calendar
from smartapp.patient.error_pages import init_error_pages
from smartapp.patient.i18n import LANGUAGES, language, long_date
from smartapp.patient.summary import PatientSummary, summarise
from smartapp.patient.viewer import Viewer, identify_viewer
from smartapp.services import current_services
from smartapp.web.launch_views import (
    authorize,
    finish_sign_in,
    launch_parameters,
    standalone_issuer,
)
from smartapp.web.security import frame_for
from smartapp.web.session import set_session_cookie

bp = Blueprint("patient", __name__, url_prefix="/patient")
LOGGER = logging.getLogger("smartapp.patient")
init_error_pages(bp)


@bp.get("/launch")
def portal_launch() -> Response:
    """The portal opens this with iss and launch: sign in with the patient-facing scopes."""
    iss, launch_value = launch_parameters()
    return _authorize(iss, launch_value)


@bp.get("/standalone")
def standalone_launch() -> Response:
    """Opened outside the portal: the EHR signs the patient or caregiver in and picks the patient."""
    return _authorize(standalone_issuer(), None)


def _authorize(iss: str, launch_value: str | None) -> Response:
    app = current_services()
    issuer = app.issuers.get(iss)
    return authorize(
        issuer.iss,
        launch_value,
        redirect_uri=app.settings.patient_redirect_uri,
        scopes=patient_scopes(issuer),
    )


@bp.get("/callback")
def callback() -> Response:
    """The EHR returns the patient or caregiver here: start the session, show the page."""
    signed_in = finish_sign_in(current_services().settings.patient_redirect_uri)
    response = redirect(url_for("patient.page", h=signed_in.handle), code=303)
    set_session_cookie(response, signed_in.handle)
    return response


@bp.get("")
def page() -> str:
    """The next blood test, the last result, when to call, the checklist, in plain words."""
    access, viewer = _signed_in()
    try:
        launch = request_evaluation(current_services())
    except (UnusableRecord, FhirError) as error:
        LOGGER.warning("patient view unread", extra={"fields": {"kind": type(error).__name__}})
        return _render(access, viewer, summary=None, patient_name="", care_team=())
    summary = summarise(
        launch.evaluation,
        launch.facts,
        launch.policy,
        complete=launch.completeness.complete,
    )
    return _render(
        access,
        viewer,
        summary=summary,
        patient_name=person_name(launch.patient),
        care_team=_care_team(launch.patient),
    )


@bp.get("/next-test.ics")
def next_test_calendar() -> Response:
    """The next blood test as a calendar file (404 when there is no date to give, as when the
    record was not read whole)."""
    _signed_in()
    try:
        launch = request_evaluation(current_services())
    except (UnusableRecord, FhirError):
        abort(404)
    due = summarise(
        launch.evaluation, launch.facts, launch.policy, complete=launch.completeness.complete
    ).next_test_on
    if due is None:
        abort(404)
    response = FlaskResponse(blood_test_calendar(due, now_utc()), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'attachment; filename="blood-test.ics"'
    return response


def _signed_in() -> tuple[EhrAccess, Viewer]:
    """This request's session and reader (Forbidden unless the patient or their caregiver)."""
    access = request_access(current_services())
    frame_for(access.issuer.frame_ancestors)
    patient_id = launch_patient(access.tokens.patient)
    viewer = identify_viewer(access.tokens.fhir_user, patient_id, access.client().read)
    return access, viewer


def _render(
    access: EhrAccess,
    viewer: Viewer,
    *,
    summary: PatientSummary | None,
    patient_name: str,
    care_team: tuple[str, ...],
) -> str:
    return render_template(
        "patient/page.html",
        summary=summary,
        viewer=viewer,
        patient_name=patient_name,
        care_team=care_team,
        next_test=long_date(summary.next_test_on) if summary and summary.next_test_on else "",
        last_result=long_date(summary.last_result_on) if summary and summary.last_result_on else "",
        handle=access.handle,
        lang=language(),
        languages=LANGUAGES,
    )


def _care_team(patient: dict[str, Any]) -> tuple[str, ...]:
    """The care team as the EHR names it on the Patient (generalPractitioner), if it does."""
    team = patient.get("generalPractitioner") or []
    return tuple(str(m["display"]) for m in team if isinstance(m, dict) and m.get("display"))
