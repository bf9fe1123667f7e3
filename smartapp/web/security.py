"""Security headers on every response: CSP with per-issuer frame-ancestors, no inline script, HSTS.

EHRs embed the app in an iframe, so `X-Frame-Options: DENY` would break it; instead the CSP's
`frame-ancestors` lists only the origins configured for the issuer of the current launch.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import g
from werkzeug.wrappers import Response

# RFC 6797: browsers keep to HTTPS for this host for a year (ignored on plain-HTTP answers). No
# includeSubDomains: the app does not own its domain's other hosts.
HSTS = "max-age=31536000"
BASE_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)


def content_security_policy(frame_ancestors: Iterable[str]) -> str:
    """The CSP header value; with no allowed ancestors, the page may not be framed at all."""
    ancestors = " ".join(sorted(set(frame_ancestors))) or "'none'"
    return "; ".join((*BASE_POLICY, f"frame-ancestors {ancestors}"))


def frame_for(origins: Iterable[str]) -> None:
    """Let this response be framed by these origins (the current issuer's EHR)."""
    g.frame_ancestors = tuple(origins)


def add_security_headers(response: Response, default_ancestors: tuple[str, ...]) -> Response:
    """Set CSP, HSTS, referrer, sniffing and caching headers; the handle in URLs must not leak."""
    ancestors = getattr(g, "frame_ancestors", None)
    response.headers["Content-Security-Policy"] = content_security_policy(
        default_ancestors if ancestors is None else ancestors
    )
    response.headers["Strict-Transport-Security"] = HSTS
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Cache-Control", "no-store")
    return response
