"""POST /signout: the prescriber ends the launch session; its handle shows nothing after it.

CSRF-checked like every POST (the form carries the handle and its token, so it works where the
embedded browser drops cookies). The session is revoked (its stored evaluation goes with it),
the browser's session cookie is cleared, and the page says how to open the app again. Where the
EHR advertises a revocation endpoint, the session's token is revoked there too (RFC 7009); a
failed revocation is logged and never keeps the prescriber signed in.
"""

from __future__ import annotations

import logging

from flask import Blueprint, g, make_response, render_template
from werkzeug.wrappers import Response

from smartapp.errors import SessionMissing
from smartapp.services import current_services
from smartapp.web.csrf import check_csrf
from smartapp.web.ehr_revocation import revoke_at_ehr
from smartapp.web.session import clear_session_cookie, request_handle

bp = Blueprint("signout", __name__)
LOGGER = logging.getLogger("smartapp.session")


@bp.post("/signout")
def sign_out() -> Response:
    """End this request's launch session."""
    app = current_services()
    handle = request_handle()
    if handle is None:
        raise SessionMissing("No app session was found. Open the app again from the chart.")
    check_csrf(app.settings.secret_key, handle)
    session = app.sessions.get(handle)
    ended = app.sessions.revoke(handle)
    # Ended in the app first: whatever the EHR answers, the handle shows nothing after this.
    at_ehr = revoke_at_ehr(app, session) if session is not None else False
    LOGGER.info(
        "session ended",
        extra={"fields": {"cause": "signed_out", "was_live": ended, "revoked_at_ehr": at_ehr}},
    )
    response = make_response(
        render_template(
            "errors/error.html",
            title="You have signed out",
            message="This app session has ended. Open the app again from the patient's chart.",
            request_id=g.get("request_id", ""),
        )
    )
    clear_session_cookie(response)
    return response
