"""Which launch session a request belongs to: the handle in the URL or form, else the cookie.

Every link and form carries the launch's handle (`h`), so two patients open in two tabs never
mix, and the app keeps working where an embedded browser drops third-party cookies. The cookie
(`SameSite=None; Secure; HttpOnly`, as an EHR iframe needs) is the fallback for a bare URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import g, request
from werkzeug.wrappers import Response

from smartapp.db import LaunchSession, LaunchSessions
from smartapp.errors import SessionExpired, SessionMissing

SESSION_COOKIE = "smartapp_session"
_HANDLE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
SESSION_COOKIE_MAX_AGE_S = 8 * 3600
_CURRENT_KEY = "smartapp_current_session"


@dataclass(frozen=True, slots=True)
class CurrentSession:
    """The handle the request used and the live session behind it."""

    handle: str
    session: LaunchSession


def set_session_cookie(response: Response, handle: str) -> None:
    """The browser's copy of the handle: only usable over HTTPS, never readable by script."""
    response.set_cookie(
        SESSION_COOKIE,
        handle,
        max_age=SESSION_COOKIE_MAX_AGE_S,
        secure=True,
        httponly=True,
        samesite="None",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    """Take the handle out of the browser (sign-out)."""
    response.delete_cookie(SESSION_COOKIE, secure=True, httponly=True, samesite="None", path="/")


def request_handle() -> str | None:
    """The handle this request names: `h` in the query or form first, then the cookie."""
    for candidate in (
        request.args.get("h"),
        request.form.get("h"),
        request.cookies.get(SESSION_COOKIE),
    ):
        if candidate and _HANDLE.match(candidate):
            return candidate
    return None


def current_session(sessions: LaunchSessions) -> CurrentSession:
    """The live launch session of this request; SessionMissing or SessionExpired otherwise.

    Looked up once per request (the page and its panels share it); the lookup is a use of the
    session, so its idle timeout starts again. An ended session's SessionExpired names why.
    """
    handle = request_handle()
    if handle is None:
        raise SessionMissing(
            "No app session was found. Open the app again from the patient's chart."
        )
    found = g.get(_CURRENT_KEY)
    if isinstance(found, CurrentSession) and found.handle == handle:
        return found
    session = sessions.get(handle, touch=True)
    if session is None:
        raise SessionExpired(
            "Your app session has ended. Open the app again from the patient's chart.",
            cause=sessions.ended_cause(handle) or "ended",
        )
    current = CurrentSession(handle, session)
    setattr(g, _CURRENT_KEY, current)
    return current
