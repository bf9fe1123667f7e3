"""The app's own errors, each with the HTTP status its page is shown with.

    SmartAppError
    ├── CsrfError          400  a POST without this session's form token
    ├── SessionMissing     401  no launch session (cookie and handle both absent or unknown)
    ├── SessionExpired     401  the launch session expired or was revoked: open the app again
    ├── Forbidden          403  the user may not do this (e.g. the registry administrator page)
    └── UnusableRecord     502  the EHR's answer cannot be evaluated: nothing is shown or written
        ├── IncompleteRecord   a read was not whole (smartapp.ehr.completeness)
        └── WrongPatient       the EHR answered with another patient than the launch's

The launch client's errors (launch.errors: LaunchError 400, AuthError 401/403) and the FHIR
client's (fhir_client.errors.FhirError) are shown by the same error handlers.
"""

from __future__ import annotations


class SmartAppError(Exception):
    """Base of the app's errors; `status` is the HTTP status, the message is safe to show."""

    status = 500
    error = "server_error"


class CsrfError(SmartAppError):
    """A POST without this session's CSRF token."""

    status = 400
    error = "csrf_failed"


class SessionMissing(SmartAppError):
    """No launch session could be found for this request."""

    status = 401
    error = "no_session"


class SessionExpired(SmartAppError):
    """The launch session ended; `cause` says why, for the log (idle_timeout, signed_out,
    refresh_refused, identity_changed, ...). The message never shows patient data."""

    status = 401
    error = "session_expired"

    def __init__(self, message: str, cause: str = "ended") -> None:
        super().__init__(message)
        self.cause = cause


class Forbidden(SmartAppError):
    """The signed-in user may not do this."""

    status = 403
    error = "forbidden"


class UnusableRecord(SmartAppError):
    """The EHR answered, but not with something the app may evaluate or write from.

    `title` and the message are safe to show (they may quote the EHR: templates escape them);
    `details` are further sentences for the page; `resource_types` name the data concerned."""

    status = 502
    error = "unusable_record"

    def __init__(
        self,
        title: str,
        message: str,
        details: tuple[str, ...] = (),
        resource_types: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.title = title
        self.details = details
        self.resource_types = resource_types


class IncompleteRecord(UnusableRecord):
    """Data the evaluation (or a write) needs was not read whole."""

    error = "incomplete_read"


class WrongPatient(UnusableRecord):
    """The EHR's Patient is not the patient of the launch context."""

    error = "wrong_patient"
