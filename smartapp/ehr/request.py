"""The EHR access of this request's launch session, made once and shared by the page and panels.

One EhrAccess per request means one token state: a refresh made while the page reads the chart is
what the write-back panel then uses, with no second refresh and no stale token.
"""

from __future__ import annotations

from flask import g

from smartapp.ehr.access import EhrAccess
from smartapp.services import Services
from smartapp.web.session import current_session

_ACCESS_KEY = "smartapp_ehr_access"


def request_access(app: Services) -> EhrAccess:
    """This request's EhrAccess (SessionMissing or SessionExpired without a live session)."""
    current = current_session(app.sessions)
    access = g.get(_ACCESS_KEY)
    if not isinstance(access, EhrAccess) or access.handle != current.handle:
        access = EhrAccess(app, current.handle, current.session)
        setattr(g, _ACCESS_KEY, access)
    return access
