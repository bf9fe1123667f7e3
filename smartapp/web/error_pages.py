"""Error pages a prescriber can act on: never a stack trace, always what to do next.

An ended session (expired, idle, signed out, refused by the EHR) shows "open the app again from
the chart" and no patient data: the handle is no longer a credential. Where the EHR failed a
live session's request, the evaluation last shown in it is kept below for reference. A record
the app may not evaluate (incomplete reads, another patient's record: UnusableRecord) never
shows a kept evaluation: the page names what could not be read and what to do, and nothing
else.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, render_template
from werkzeug.exceptions import HTTPException

from fhir_client import FhirAuthError, FhirError, FhirIncompleteRead
from launch import SmartClientError
from smartapp.errors import SessionExpired, SmartAppError, UnusableRecord
from smartapp.services import current_services
from smartapp.web.busy import BUSY_STATUS, busy_headers, ehr_busy
from smartapp.web.session import request_handle

LOGGER = logging.getLogger("smartapp.errors")


def _last_evaluation() -> dict[str, Any] | None:
    """The evaluation last shown in this request's session, only while the session is live."""
    handle = request_handle()
    if handle is None:
        return None
    return current_services().sessions.last_evaluation(handle)


def _page(
    status: int,
    title: str,
    message: str,
    *,
    keep_last: bool = False,
    unusable: UnusableRecord | None = None,
) -> tuple[str, int]:
    last = _last_evaluation() if keep_last else None
    html = render_template(
        "errors/error.html",
        title=title,
        message=message,
        last=last,
        unusable=unusable,
        request_id=g.get("request_id", ""),
    )
    return html, status


def init_error_pages(app: Flask) -> None:
    """Register one handler per error family."""

    @app.errorhandler(SmartAppError)
    def _app_error(error: SmartAppError) -> tuple[str, int]:
        fields: dict[str, Any] = {"error": error.error, "status": error.status}
        if isinstance(error, SessionExpired):
            fields["cause"] = error.cause
        LOGGER.info("app error", extra={"fields": fields})
        title = "Open the app again from the chart" if error.status == 401 else "Request refused"
        return _page(error.status, title, str(error))

    @app.errorhandler(UnusableRecord)
    def _unusable_record(error: UnusableRecord) -> tuple[str, int]:
        LOGGER.warning(
            "record not evaluated",
            extra={"fields": {"error": error.error, "resource_types": list(error.resource_types)}},
        )
        return _page(error.status, error.title, str(error), unusable=error)

    @app.errorhandler(SmartClientError)
    def _launch_error(error: SmartClientError) -> tuple[str, int, dict[str, str]]:
        # The message is written to be shown (no tokens, codes or secrets): it names what to
        # fix (the unknown issuer, the EHR's error_description, the host to trust).
        fields = {"error": error.error, "status": error.status, "detail": error.message}
        LOGGER.warning("launch error", extra={"fields": fields})
        html, status = _page(error.status, "The app could not be opened", error.message)
        return html, status, busy_headers(error)

    @app.errorhandler(FhirError)
    def _fhir_error(error: FhirError) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
        LOGGER.warning(
            "EHR error",
            extra={
                "fields": {
                    "status": error.status,
                    "kind": type(error).__name__,
                    "retryable": error.retryable,
                    # The technical line: method, type, status, issue codes (or the host whose
                    # certificate failed); never a URL, a token or the server's free text.
                    "detail": str(error),
                }
            },
        )
        if isinstance(error, FhirAuthError) and error.expired:
            return _page(401, "Open the app again from the chart", error.user_message)
        status = 403 if isinstance(error, FhirAuthError) else 502
        if ehr_busy(error):
            status = BUSY_STATUS
        # A part-read answer is not shown beside an older evaluation it may contradict.
        keep_last = not isinstance(error, FhirIncompleteRead)
        html, status = _page(
            status, "The EHR did not answer as expected", error.user_message, keep_last=keep_last
        )
        return html, status, busy_headers(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[str, int]:
        return _page(error.code or 500, error.name, error.description or error.name)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        LOGGER.error(
            "unexpected error", exc_info=error, extra={"fields": {"kind": type(error).__name__}}
        )
        return _page(
            500,
            "Something went wrong",
            "The app hit an unexpected problem; it has been logged. Open the app again from the chart.",
        )
