"""The state cookie: binds an authorize redirect to the browser that started it (login CSRF).

Set at /launch (`SameSite=None; Secure; HttpOnly`, as a cross-site EHR iframe needs; ten
minutes, the pending launch's life) and checked at /callback where the browser sent it: a
callback arriving with another browser's cookie is refused. One value per browser, kept across
launches, so two tabs launching at once both pass. Where an embedded browser drops cookies the
callback carries none and the state alone decides (the README says what that costs).
"""

from __future__ import annotations

import re
import secrets

from flask import request
from werkzeug.wrappers import Response

from smartapp.db.launches import DEFAULT_PENDING_LAUNCH_LIFETIME

STATE_COOKIE = "smartapp_state"
_VALUE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def sent_state_cookie() -> str | None:
    """The state cookie this request came with, when it is one the app could have set."""
    value = request.cookies.get(STATE_COOKIE)
    return value if value and _VALUE.match(value) else None


def browser_binding() -> str:
    """This browser's state cookie value: the one it sent, else a new random one."""
    return sent_state_cookie() or secrets.token_urlsafe(32)


def set_state_cookie(response: Response, value: str) -> None:
    """Keep the binding in the browser for as long as a pending launch lives."""
    response.set_cookie(
        STATE_COOKIE,
        value,
        max_age=int(DEFAULT_PENDING_LAUNCH_LIFETIME.total_seconds()),
        secure=True,
        httponly=True,
        samesite="None",
        path="/",
    )
