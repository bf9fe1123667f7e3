"""Error pages of the patient view: in the reader's language, in plain words, never clinical.

The prescriber's error pages say to open the app again from the chart and may keep the last
evaluation in view; a patient or caregiver is told instead to open it again from the portal,
and that their care team can answer about their blood tests. The error is logged by kind only.
"""

from __future__ import annotations

import logging

from flask import Blueprint, render_template

from launch import SmartClientError
from smartapp.errors import SmartAppError
from smartapp.patient.i18n import language
from smartapp.web.busy import busy_headers

LOGGER = logging.getLogger("smartapp.patient")


def _page(status: int, kind: str) -> tuple[str, int]:
    return render_template("patient/error.html", kind=kind, lang=language()), status


def init_error_pages(bp: Blueprint) -> None:
    """The patient view's handlers, ahead of the app's own for this blueprint's routes."""

    @bp.errorhandler(SmartAppError)
    def _app_error(error: SmartAppError) -> tuple[str, int]:
        LOGGER.info("app error", extra={"fields": {"error": error.error, "status": error.status}})
        kind = {401: "session", 403: "forbidden"}.get(error.status, "failed")
        return _page(error.status, kind)

    @bp.errorhandler(SmartClientError)
    def _sign_in_error(error: SmartClientError) -> tuple[str, int, dict[str, str]]:
        LOGGER.warning(
            "launch error", extra={"fields": {"error": error.error, "status": error.status}}
        )
        html, status = _page(error.status, "sign-in")
        return html, status, busy_headers(error)
