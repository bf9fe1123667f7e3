"""FhirErrors from failed calls, with the sentence the prescriber reads and the line logs keep."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fhir_client.errors import (
    FhirAuthError,
    FhirBadRequest,
    FhirError,
    FhirIncompleteRead,
    FhirNotFound,
    FhirUnavailable,
    outcome_codes,
    outcome_texts,
)
from fhir_client.fhir_json import FhirJson

# What each resource type holds, in a prescriber's words.
RESOURCE_WORDS = {
    "Patient": "the patient's record",
    "Observation": "lab results",
    "MedicationRequest": "medication orders",
    "Medication": "medication details",
    "Condition": "the problem list",
    "Practitioner": "prescriber details",
    "PractitionerRole": "prescriber details",
    "Organization": "organisation details",
    "Flag": "chart flags",
    "Task": "tasks",
    "DocumentReference": "documents",
    "Communication": "messages",
}
_QUOTE_LIMIT = 300


@dataclass(frozen=True, slots=True)
class Call:
    """One FHIR call as the error needs it: what was asked, and how the tries went."""

    method: str
    resource_type: str
    attempts: int = 1
    elapsed_s: float = 0.0

    @property
    def verb(self) -> str:
        return "read" if self.method == "GET" else "write"

    @property
    def words(self) -> str:
        return RESOURCE_WORDS.get(self.resource_type, f"{self.resource_type} resources")

    @property
    def tries(self) -> str:
        """How the tries went ("the app tried 4 times over 9 seconds"); empty for one try."""
        if self.attempts <= 1:
            return ""
        seconds = round(self.elapsed_s)
        span = "within a second" if seconds < 1 else f"over {seconds} second" + "s" * (seconds != 1)
        return f"the app tried {self.attempts} times {span}"


def error_from_status(
    call: Call,
    status: int,
    operation_outcome: FhirJson | None,
    www_authenticate: str = "",
    retry_statuses: frozenset[int] = frozenset(),
) -> FhirError:
    """The FhirError for an HTTP error status."""
    codes = outcome_codes(operation_outcome)
    line = f"{call.method} {call.resource_type} -> {status}" + (f" {codes}" if codes else "")
    # RFC 6750 3.1: invalid_token is what an expired token gets; some EHRs also say `expired`.
    expired = status == 401 and ('error="invalid_token"' in www_authenticate or "expired" in codes)
    error_class, text = _describe(call, status, expired)
    error = error_class(
        line,
        user_message=text + _said(operation_outcome),
        status=status,
        operation_outcome=operation_outcome,
        resource_type=call.resource_type,
        attempts=call.attempts,
        retryable=(status in retry_statuses or status == 429) if status >= 429 else None,
    )
    if isinstance(error, FhirAuthError):
        error.expired = expired
    return error


def _describe(call: Call, status: int, expired: bool) -> tuple[type[FhirError], str]:
    """The error class for a status, and the sentence that tells the prescriber."""
    if status == 401 and expired:
        return FhirAuthError, "Your EHR session has expired: open the app again from the chart."
    if status == 401:
        return FhirAuthError, (
            "The EHR did not accept the app's sign-in: open the app again from the chart."
        )
    if status == 403:
        return FhirAuthError, (
            f"The EHR refused access to {call.resource_type}: the app was not granted "
            f"permission to {call.verb} {call.words}."
        )
    if status in (404, 410):
        return FhirNotFound, (
            f"The EHR could not find {call.words} ({call.resource_type}): it has no such record "
            "or does not offer this kind."
        )
    if status in (400, 422):
        return FhirBadRequest, (
            f"The EHR rejected the app's request for {call.words} ({call.resource_type})."
        )
    if status == 429 or status >= 500:
        return FhirUnavailable, _unavailable_text(call, status)
    return FhirError, f"The EHR could not answer the request for {call.words} (HTTP {status})."


def error_from_transport(call: Call, timed_out: bool, timeout_s: float) -> FhirUnavailable:
    """The FhirUnavailable for a timeout or a failed connection, retries spent."""
    kind = "timeout" if timed_out else "connection failed"
    line = f"{call.method} {call.resource_type} -> {kind} after {call.attempts} attempt(s)"
    text = (
        f"The EHR did not answer within {timeout_s:g} seconds."
        if timed_out
        else "The app could not connect to the EHR."
    )
    if call.tries:
        text += f" {call.tries[0].upper()}{call.tries[1:]}."
    return FhirUnavailable(
        line, user_message=text, resource_type=call.resource_type, attempts=call.attempts
    )


def error_from_tls(call: Call, url: str) -> FhirUnavailable:
    """The FhirUnavailable for a TLS certificate the client does not trust (not retried)."""
    host = urlsplit(url).hostname or "the EHR's server"
    return FhirUnavailable(
        f"{call.method} {call.resource_type} -> TLS certificate of {host} not trusted"
        " (set tls_ca_file)",
        user_message=(
            f"The app does not trust the TLS certificate of {host}; if this EHR uses its own"
            " certificate authority, set tls_ca_file for it in the issuers file."
        ),
        resource_type=call.resource_type,
        attempts=call.attempts,
        retryable=False,
    )


def error_from_body(call: Call, status: int) -> FhirError:
    """The FhirError for a success status whose body is not the FHIR JSON asked for."""
    return FhirError(
        f"{call.method} {call.resource_type} -> {status} with a body that is not FHIR JSON",
        user_message=f"The EHR sent {call.words} in a form the app could not read.",
        status=status,
        resource_type=call.resource_type,
    )


def error_from_guard(call: Call, reason: str, user_message: str) -> FhirError:
    """The FhirError for a response the client refuses to follow (paging guards)."""
    return FhirError(
        f"{call.method} {call.resource_type}: {reason}",
        user_message=user_message,
        resource_type=call.resource_type,
    )


def error_from_incomplete(
    call: Call, problems: tuple[str, ...], retryable: bool = False
) -> FhirIncompleteRead:
    """The FhirIncompleteRead for a search that could not be read whole."""
    reasons = "; ".join(problems)
    return FhirIncompleteRead(
        f"{call.method} {call.resource_type}: incomplete searchset ({reasons})",
        user_message=(
            f"The EHR's answer for {call.words} could not be read completely ({reasons}), so "
            "the app cannot tell what is missing. Try again; if this persists, ask your EHR team "
            "to check the FHIR interface."
        ),
        resource_type=call.resource_type,
        problems=problems,
        retryable=retryable,
    )


def error_from_stopped_paging(call: Call, page: int, error: FhirError) -> FhirIncompleteRead:
    """The FhirIncompleteRead for a search whose later page failed: what was read is partial."""
    return FhirIncompleteRead(
        f"{call.method} {call.resource_type}: paging stopped at page {page} ({error})",
        user_message=(
            f"{error.user_message} Only part of {call.words} was read (page {page} failed), so "
            "the app does not show it as complete."
        ),
        status=error.status,
        resource_type=call.resource_type,
        problems=(f"page {page} could not be read",),
        retryable=error.retryable,
        attempts=error.attempts,
    )


def _unavailable_text(call: Call, status: int) -> str:
    if status == 429:
        text = "The EHR is busy (too many requests)"
    elif status == 500:
        text = f"The EHR had an internal error while answering the request for {call.words}"
    else:
        text = f"The EHR is unavailable right now (HTTP {status})"
    return f"{text}; {call.tries}." if call.tries else f"{text}."


def _said(operation_outcome: FhirJson | None) -> str:
    texts = outcome_texts(operation_outcome)
    if not texts:
        return ""
    quoted = "; ".join(texts)
    if len(quoted) > _QUOTE_LIMIT:
        quoted = quoted[: _QUOTE_LIMIT - 1].rstrip() + "…"
    return f' The EHR said: "{quoted}".'
