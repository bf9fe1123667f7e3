"""SMART App Launch: /launch (EHR), /standalone, /callback; the session starts here.

Spec: SMART App Launch 2.2, "App Launch: Launch and Authorization"
(https://hl7.org/fhir/smart-app-launch/app-launch.html). The issuer must be allow-listed, every
authorize carries state + PKCE S256 + aud, and the state is used once, by the browser that
started the launch where that browser keeps cookies (smartapp.web.state_cookie).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from launch import (
    IssuerConfig,
    LaunchError,
    TokenSet,
    authorization_error,
    begin_launch,
    complete_launch,
)
from smartapp.clock import now_utc
from smartapp.db.audit import AuditEvent
from smartapp.db.housekeeping import purge_stale
from smartapp.db.launches import AnotherBrowser
from smartapp.services import current_services
from smartapp.web.security import frame_for
from smartapp.web.session import set_session_cookie
from smartapp.web.state_cookie import browser_binding, sent_state_cookie, set_state_cookie

bp = Blueprint("launch", __name__)
LOGGER = logging.getLogger("smartapp.launch")


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A completed sign-in: the EHR, the tokens and the new launch session's handle."""

    issuer: IssuerConfig
    tokens: TokenSet
    handle: str


@bp.get("/launch")
def ehr_launch() -> Response:
    """The EHR opens this with iss and launch; redirect to the EHR's authorize endpoint."""
    iss, launch_value = launch_parameters()
    return authorize(iss, launch_value)


@bp.get("/standalone")
def standalone_launch() -> Response:
    """Open the app outside the chart: the EHR asks the user to pick a patient."""
    return authorize(standalone_issuer(), None)


def launch_parameters() -> tuple[str, str]:
    """The EHR launch's `iss` and `launch` (LaunchError without a launch value)."""
    launch_value = request.args.get("launch")
    if not launch_value:
        raise LaunchError(
            "invalid_request", "The EHR did not send a launch value. Open the app from the chart."
        )
    return request.args.get("iss", ""), launch_value


def standalone_issuer() -> str:
    """The `iss` a standalone launch names, or the only configured one."""
    iss = request.args.get("iss", "")
    if not iss:
        configured = list(current_services().issuers)
        if len(configured) != 1:
            raise LaunchError("invalid_request", "Say which EHR to sign in to (the iss parameter).")
        iss = configured[0].iss
    return iss


def authorize(
    iss: str,
    launch_value: str | None,
    *,
    redirect_uri: str | None = None,
    scopes: str | None = None,
) -> Response:
    """Redirect to the allow-listed issuer's authorize endpoint (`scopes`: a launch profile's)."""
    app = current_services()
    issuer = app.issuers.get(iss)
    frame_for(issuer.frame_ancestors)
    configuration = app.discovery.get(issuer.iss, app.http_for(issuer))
    url, pending = begin_launch(
        issuer,
        configuration,
        redirect_uri=redirect_uri or app.settings.redirect_uri,
        aud=issuer.iss,
        now=now_utc(),
        launch=launch_value,
        scopes=scopes,
    )
    browser = browser_binding()
    app.pending.save(pending, browser=browser)
    # Launches abandoned at the EHR's sign-in never reach /callback: purge here too.
    purge_stale(app.sessions, app.pending, pending.created_at, app.settings.session_retention)
    # The target comes from the allow-listed issuer's own discovery document: not an open redirect.
    response = redirect(url, code=302)
    set_state_cookie(response, browser)
    return response


@bp.get("/callback")
def callback() -> Response:
    """The EHR's authorization server returns here: check state, exchange the code, start a
    session; the chart opens, or for a coordinator launched without a patient the worklist."""
    signed_in = finish_sign_in(current_services().settings.redirect_uri, worklist=True)
    target = "chart.page" if signed_in.tokens.patient else "coordinator.page"
    response = redirect(url_for(target, h=signed_in.handle), code=303)
    set_session_cookie(response, signed_in.handle)
    return response


def finish_sign_in(redirect_uri: str, *, worklist: bool = False) -> SignedIn:
    """Check the callback's state (made for `redirect_uri`), exchange the code, store the session.

    A sign-in without a patient is refused, unless `worklist` (the chart's and the worklist's
    callbacks) and the user is one of the EHR's worklist users (SMARTAPP_WORKLIST_USERS): the
    coordinator's worklist opens no patient's record."""
    app = current_services()
    refused = authorization_error(request.args)
    if refused is not None:
        raise refused
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if not state or not code:
        raise LaunchError(
            "invalid_request",
            "The sign-in answer is incomplete. Open the app again from the chart.",
        )
    browser = sent_state_cookie()
    try:
        pending = app.pending.consume(state, browser=browser)
    except AnotherBrowser:
        LOGGER.warning("sign-in refused", extra={"fields": {"cause": "state_cookie_mismatch"}})
        raise LaunchError(
            "invalid_state",
            "This sign-in was started in another browser, so it cannot sign in here."
            " Open the app again from the chart.",
        ) from None
    if browser is None:  # the embedded browser dropped the cookie: the state alone decides
        LOGGER.info("sign-in without the state cookie", extra={"fields": {}})
    if pending is None or pending.redirect_uri != redirect_uri:
        raise LaunchError(
            "invalid_state",
            "This sign-in link was already used, has expired or did not come from this app."
            " Open the app again from the chart.",
        )
    issuer = app.issuers.get(pending.iss)
    frame_for(issuer.frame_ancestors)
    now = now_utc()
    if issuer.auth_method == "private_key_jwt":
        app.keys.reload()  # sign with the current key even after a rotation elsewhere
    tokens = complete_launch(
        issuer,
        app.discovery.get(issuer.iss, app.http_for(issuer)),
        pending,
        code=code,
        returned_state=state,
        http=app.http_for(issuer),
        now=now,
        key_ring=app.keys,
        client_secret=app.client_secrets.get(issuer.iss),
    )
    coordinator = worklist and app.worklist_users.includes(issuer.iss, tokens.fhir_user)
    if not tokens.patient and not coordinator:
        raise LaunchError(
            "no_patient",
            "The EHR did not say which patient to open. Open the app from a patient's chart.",
        )
    handle = app.sessions.create(issuer.iss, issuer.client_id, tokens)
    purge_stale(app.sessions, app.pending, now, app.settings.session_retention)
    app.audit.record(
        AuditEvent(
            actor=tokens.fhir_user or "unknown user",
            iss=issuer.iss,
            action="launch",
            target=f"Patient/{tokens.patient}" if tokens.patient else "worklist",
        )
    )
    return SignedIn(issuer, tokens, handle)
