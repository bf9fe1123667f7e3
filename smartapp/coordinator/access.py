"""Who may open the worklist: a live launch session of a user the organisation names there."""

from __future__ import annotations

from dataclasses import dataclass

from smartapp.errors import Forbidden
from smartapp.services import Services
from smartapp.tenancy.admins import WORKLIST_SETTING
from smartapp.web.audience import refuse_portal_user
from smartapp.web.security import frame_for
from smartapp.web.session import current_session

# The worklist reads no FHIR data with the user's token: its sign-in asks only who signed in.
WORKLIST_SCOPES = "openid fhirUser"


@dataclass(frozen=True, slots=True)
class Coordinator:
    """The launch behind a worklist request: its handle, EHR and user."""

    handle: str
    iss: str
    smart_style: bool
    fhir_user: str


def coordinator(app: Services) -> Coordinator:
    """This request's launch (401 without one), whose user must be named in
    SMARTAPP_WORKLIST_USERS at the launch's EHR (403 otherwise, patients and caregivers too)."""
    current = current_session(app.sessions)
    session = current.session
    frame_for(app.issuers.get(session.iss).frame_ancestors)
    refuse_portal_user(session.fhir_user)
    if not app.worklist_users.includes(session.iss, session.fhir_user):
        raise Forbidden(
            "The worklist is for the clinic's coordinators. Ask your program administrator to"
            f" add your user at this EHR to {WORKLIST_SETTING}."
        )
    return Coordinator(
        current.handle,
        session.iss,
        bool(session.tokens.smart_style_url),
        session.fhir_user or "unknown user",
    )
