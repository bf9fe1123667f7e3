"""The right patient: the Patient the EHR returned must be the launch context's patient.

SMART App Launch ("Launch context"): the token response's `patient` names the patient the app
was opened for, and the app reads `Patient/[that id]`. An EHR that answers with another record
(a proxy's cache, a merged chart, a wrong mapping) must never get that record evaluated under this
patient's banner: the check stops the request before any evaluation, with a message saying so.
"""

from __future__ import annotations

from typing import Any

from smartapp.errors import WrongPatient

__all__ = ["check_patient", "check_renewed_patient", "launch_patient", "patient_id_of"]

WHAT_TO_DO = (
    "Nothing is shown or written for this patient. Close the app, open it again from the "
    "patient's chart, and tell your EHR team if this happens again."
)


def patient_id_of(patient: object) -> str | None:
    """The id of a Patient resource (a number written for it read as its string, as the
    mappings read it); None when it is not a Patient or has no usable id."""
    if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
        return None
    value = patient.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and value else None


def launch_patient(token_patient: str | None) -> str:
    """The launch context's patient id; WrongPatient when the token names none."""
    if not token_patient:
        raise WrongPatient(
            "The EHR did not say which patient this is",
            f"The EHR's sign-in names no patient, so the app cannot tell whose record to read. "
            f"{WHAT_TO_DO}",
        )
    return token_patient


def check_patient(patient: Any, asked_for: str, token_patient: str | None) -> None:
    """WrongPatient unless `patient` is the Patient asked for and the one the token names now
    (a refresh in the middle of the reads must not have moved the session to another patient)."""
    launch_patient(token_patient)
    found = patient_id_of(patient)
    if found is None:
        raise WrongPatient(
            "The EHR did not return the patient's record",
            f"The EHR answered the request for the patient's record with something that is not "
            f"a Patient with an id. {WHAT_TO_DO}",
            resource_types=("Patient",),
        )
    if found != asked_for or found != token_patient:
        raise WrongPatient(
            "The EHR returned another patient's record",
            f"The app asked the EHR for the patient this app was opened for, and the EHR "
            f"answered with a different patient's record. {WHAT_TO_DO}",
            resource_types=("Patient",),
        )


def check_renewed_patient(before: str | None, after: str | None) -> None:
    """WrongPatient when a token refresh names another patient than the session was opened for
    (the session is then left as it was: its patient never changes under the prescriber)."""
    if after != before:
        raise WrongPatient(
            "The EHR renewed this session for another patient",
            f"The EHR's renewed sign-in names a different patient from the one this app was "
            f"opened for. {WHAT_TO_DO}",
        )
