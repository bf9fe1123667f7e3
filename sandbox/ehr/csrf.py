"""CSRF protection of the chart's forms: a random cookie the form must repeat (double submit).

The cookie is `Secure`, `HttpOnly` and `SameSite=Strict`, so another site can neither read it
nor make the browser send it; every POST of the chart carries the same value in its form.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Response, abort, g, request

COOKIE = "sbx_csrf"
FIELD = "csrf_token"


def csrf_token() -> str:
    """This browser's token (a new one is set on the response when it has none)."""
    token = request.cookies.get(COOKIE) or g.get("sbx_new_csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        g.sbx_new_csrf = token
    return str(token)


def set_cookie(response: Response) -> Response:
    """Set the cookie on a page for a browser that has none (after_request)."""
    token = g.get("sbx_new_csrf")
    if token is None and COOKIE not in request.cookies and response.mimetype == "text/html":
        token = secrets.token_urlsafe(32)
    if token:
        response.set_cookie(COOKIE, token, secure=True, httponly=True, samesite="Strict")
    return response


def check_csrf() -> None:
    """Refuse a POST whose form does not repeat the cookie (403)."""
    cookie, sent = request.cookies.get(COOKIE, ""), request.form.get(FIELD, "")
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        abort(403, "The form's CSRF token does not match: reload the chart and try again")
