"""CSRF tokens bound to the launch session: an HMAC of its id, checked on every POST.

Except on the views marked `csrf_exempt` with their reason: the CDS Hooks endpoints, which EHRs
call (not browsers) with a signed JWT as their authentication.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any, TypeVar

from flask import request

from smartapp.errors import CsrfError


def csrf_token(secret_key: str, session_id: str) -> str:
    """The form token for a session (stable for the session's life, useless for any other)."""
    message = f"csrf:{session_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def check_csrf(secret_key: str, session_id: str) -> None:
    """Refuse a POST whose form token does not match the session's."""
    sent = request.form.get("csrf_token", "") or request.headers.get("X-CSRF-Token", "")
    # Bytes: compare_digest refuses str with non-ASCII characters (a TypeError, so a 500).
    expected = csrf_token(secret_key, session_id).encode()
    if not hmac.compare_digest(sent.encode("utf-8", "surrogateescape"), expected):
        raise CsrfError("The form was not sent by this app (CSRF check failed). Reload the page.")


_F = TypeVar("_F", bound=Callable[..., Any])
# The POST views that take no CSRF token, each with why (a machine caller authenticated otherwise).
CSRF_EXEMPT: dict[str, str] = {}


def csrf_exempt(reason: str) -> Callable[[_F], _F]:
    """Mark a POST view as exempt from the CSRF check, saying why; every other POST checks it."""

    def mark(view: _F) -> _F:
        CSRF_EXEMPT[f"{view.__module__}.{view.__name__}"] = reason
        return view

    return mark
