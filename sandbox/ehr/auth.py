"""Authorization server endpoints: authorize (EHR and standalone launch), token, introspect, revoke.

There is no real login in a sandbox: the authorize step signs in a practitioner (the launch's, or
the default one), or for a portal launch the patient or their caregiver, and approves; a
standalone launch asking for `launch/patient` first shows a patient picker, which also asks who
signs in. Simulated faults set for the client or launch are applied here.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import InvalidScopeError, OAuth2Error
from flask import Blueprint, Response, redirect, render_template, request, url_for

from sandbox.ehr.engine import EngineError
from sandbox.ehr.faults import FaultKind, Surface
from sandbox.ehr.scopes import split_scope
from sandbox.ehr.services import EhrServices, services
from sandbox.ehr.store import Launch, LaunchContext, User

bp = Blueprint("auth", __name__, url_prefix="/auth")

PICK_PARAM = "sandbox_pick"
# Who a standalone sign-in is for: the sandbox's practitioner, the patient, or their caregiver.
SIGN_INS = ("practitioner", "patient", "caregiver")


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> Any:
    ehr = services()
    values = request.values
    client = ehr.clients.get(values.get("client_id"))
    launch = ehr.store.get_launch(values["launch"]) if values.get("launch") else None
    client_id = client.client_id if client else None
    launch_id = launch.launch_id if launch else None
    if client and ehr.server.client_fault(FaultKind.BAD_REDIRECT_URI, client_id, launch_id):
        return _error_page(400, "invalid_request", "The redirect_uri is not registered.")
    try:
        grant = ehr.server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return _oauth_error(ehr, error)
    if ehr.server.client_fault(FaultKind.INVALID_SCOPE, client_id, launch_id):
        refused = InvalidScopeError(state=values.get("state"), redirect_uri=grant.redirect_uri)
        return _oauth_error(ehr, refused)
    granted = split_scope(grant.request.scope)
    if launch is not None:
        context = _ehr_launch_context(launch)
    elif "launch/patient" in granted:
        pick = values.get(PICK_PARAM)
        picked = ehr.store.take_pick(pick, grant.client.client_id) if pick else None
        if picked is None:
            return _picker(ehr, grant.client.client_id)
        patient, portal_user = picked
        context = LaunchContext(user=_picked_user(ehr, portal_user), patient=patient)
    else:
        context = LaunchContext(user=User(ehr.default_practitioner()))
    return ehr.server.create_authorization_response(grant_user=context, grant=grant)


def _ehr_launch_context(launch: Launch) -> LaunchContext:
    return LaunchContext(
        user=_launch_user(launch),
        patient=launch.patient,
        encounter=launch.encounter,
        launch_id=launch.launch_id,
        need_patient_banner=launch.need_patient_banner,
        smart_style_url=launch.smart_style_url,
        vendor=launch.vendor,
    )


def _launch_user(launch: Launch) -> User:
    """The portal's patient or caregiver when the launch came from the portal, else the chart's
    practitioner."""
    if launch.portal_user:
        resource_type, _, user_id = launch.portal_user.partition("/")
        return User(user_id, resource_type)
    return User(launch.practitioner)


def _picked_user(ehr: EhrServices, portal_user: str | None) -> User:
    """Who the picker signed in: the patient or their caregiver, else the practitioner."""
    if portal_user:
        resource_type, _, user_id = portal_user.partition("/")
        return User(user_id, resource_type)
    return User(ehr.default_practitioner())


def _picker(ehr: EhrServices, client_id: str) -> str:
    params = [(k, v) for k, v in request.values.items(multi=True) if k != PICK_PARAM]
    return render_template(
        "picker.html",
        patients=ehr.patients(),
        client=ehr.clients.get(client_id),
        client_id=client_id,
        original=urlencode(params),
    )


@bp.post("/pick")
def pick() -> Any:
    """The picker's answer: remember the chosen patient, then resume the authorization."""
    ehr = services()
    client_id = request.form.get("client_id", "")
    patient = request.form.get("patient", "")
    known = {entry.patient_id for entry in ehr.patients()}
    if ehr.clients.get(client_id) is None or not patient or (known and patient not in known):
        return _error_page(400, "invalid_request", "Choose one of the listed patients.")
    signer = request.form.get("signin", "practitioner")
    if signer not in SIGN_INS:
        return _error_page(
            400, "invalid_request", "Sign in as the clinician, patient or caregiver."
        )
    portal_user = _portal_user(ehr, signer, patient)
    if signer == "caregiver" and portal_user is None:
        return _error_page(400, "invalid_request", "This patient has no caregiver on file.")
    pick_id = ehr.store.add_pick(client_id, patient, portal_user)
    original = request.form.get("request", "")
    resume = f"{ehr.config.origin}{url_for('auth.authorize')}"
    return redirect(f"{resume}?{original}&{urlencode({PICK_PARAM: pick_id})}")


def _portal_user(ehr: EhrServices, signer: str, patient: str) -> str | None:
    """`Patient/x` or the patient's caregiver `RelatedPerson/y`; None for the practitioner."""
    if signer == "patient":
        return f"Patient/{patient}"
    if signer == "caregiver":
        try:
            found = ehr.engine.search("RelatedPerson", [("patient", patient), ("_count", "1")])
        except EngineError:
            found = []
        return f"RelatedPerson/{found[0]['id']}" if found else None
    return None


@bp.post("/token")
def token() -> Any:
    ehr = services()
    client_id = _claimed_client_id()
    launch_id = _grant_launch(ehr)
    refusal = _http_fault(ehr, client_id, launch_id)
    if refusal is not None:
        return refusal
    if ehr.server.client_fault(FaultKind.TOKEN_REDIRECT, client_id, launch_id):
        # 307 keeps the method and body: a client following it posts the same grant again.
        return Response("", 307, {"Location": ehr.server.token_url, "Cache-Control": "no-store"})
    if client_id and ehr.server.client_fault(FaultKind.INVALID_CLIENT, client_id, launch_id):
        body = {"error": "invalid_client", "error_description": "Client authentication failed."}
        return Response(json.dumps(body), 401, _json_headers())
    return ehr.server.create_token_response()


@bp.post("/introspect")
def introspect() -> Any:
    return services().server.create_endpoint_response("introspection")


@bp.post("/revoke")
def revoke() -> Any:
    return services().server.create_endpoint_response("revocation")


def _http_fault(ehr: EhrServices, client_id: str | None, launch_id: str | None) -> Any:
    slow = ehr.faults.take(
        (FaultKind.SLOW,), on=Surface.TOKEN, client_id=client_id, launch=launch_id
    )
    if slow is not None:
        time.sleep(slow.delay_s)
    fault = ehr.server.http_fault(client_id, launch_id)
    if fault is None:
        return None
    status = {
        FaultKind.RATE_LIMIT: 429,
        FaultKind.UNAVAILABLE: 503,
        FaultKind.SERVER_ERROR: 500,
    }[fault.kind]
    headers = _json_headers()
    if fault.retry_after_s is not None and status in (429, 503):
        headers["Retry-After"] = str(fault.retry_after_s)
    body = {"error": "temporarily_unavailable", "error_description": f"Simulated {status}."}
    return Response(json.dumps(body), status, headers)


def _claimed_client_id() -> str | None:
    """The client the request claims to be, before any authentication (to find its faults)."""
    if request.form.get("client_id"):
        return request.form["client_id"]
    if request.authorization and request.authorization.username:
        return request.authorization.username
    assertion = request.form.get("client_assertion", "")
    try:
        payload = assertion.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    sub = claims.get("sub") if isinstance(claims, dict) else None
    return sub if isinstance(sub, str) else None


def _grant_launch(ehr: EhrServices) -> str | None:
    """The EHR launch behind the code or refresh token presented, if any."""
    form = request.form
    if form.get("grant_type") == "authorization_code" and form.get("code"):
        code = ehr.store.peek_code(form["code"])
        return code.context.launch_id if code else None
    if form.get("grant_type") == "refresh_token" and form.get("refresh_token"):
        found = ehr.store.by_refresh_token(form["refresh_token"])
        return found.context.launch_id if found else None
    return None


def _oauth_error(ehr: EhrServices, error: OAuth2Error) -> Any:
    """Redirect with the error when the redirect URI is trusted; else show an error page."""
    if error.redirect_uri:
        return ehr.server.handle_error_response(None, error)
    return _error_page(error.status_code or 400, error.error, error.description or "")


def _error_page(status: int, error: str, description: str) -> tuple[str, int]:
    return render_template("auth_error.html", error=error, description=description), status


def _json_headers() -> dict[str, str]:
    return {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}
