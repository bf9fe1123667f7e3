"""Who is asking the registry pages: the launch session's user, its patient, and admin rights."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g

from clozapine.registry import normalise_reference
from smartapp.errors import Forbidden
from smartapp.services import Services
from smartapp.web.audience import refuse_portal_user
from smartapp.web.csrf import check_csrf, csrf_token
from smartapp.web.security import frame_for
from smartapp.web.session import current_session


@dataclass(frozen=True, slots=True)
class Requester:
    """The launch behind a registry request: its handle, EHR, patient and signed-in user."""

    handle: str
    iss: str
    patient: str
    user: str | None
    is_admin: bool
    csrf: str
    smart_style: bool


def requester(app: Services) -> Requester:
    """The live launch of this request (401 without one); its pages may be framed by its EHR."""
    current = current_session(app.sessions)
    session = current.session
    frame_for(app.issuers.get(session.iss).frame_ancestors)
    refuse_portal_user(session.fhir_user)  # a patient or caregiver never edits the registry
    user = normalise_reference(session.fhir_user) if session.fhir_user else None
    return Requester(
        handle=current.handle,
        iss=session.iss,
        patient=f"Patient/{session.patient or ''}",
        user=user,
        is_admin=app.admins.includes(session.iss, session.fhir_user),
        csrf=csrf_token(app.settings.secret_key, current.handle),
        smart_style=bool(session.tokens.smart_style_url),
    )


def admin(app: Services) -> Requester:
    """The requester, who must be a registry administrator (403 otherwise)."""
    who = requester(app)
    if not who.is_admin:
        raise Forbidden(
            "Only registry administrators may open this page. Ask your program administrator"
            " to add your user at this EHR to SMARTAPP_REGISTRY_ADMINS."
        )
    return who


def writer(app: Services, who: Requester) -> str:
    """Check the form's CSRF token; the user the change is recorded against (403 if unnamed)."""
    check_csrf(app.settings.secret_key, who.handle)
    if who.user is None:
        raise Forbidden(
            "The EHR did not say who you are (no fhirUser), so the change cannot be recorded"
            " against your name. Open the app again from the chart."
        )
    return who.user


def request_id() -> str | None:
    """This request's id, stored with the audit event."""
    value = g.get("request_id")
    return value if isinstance(value, str) else None
