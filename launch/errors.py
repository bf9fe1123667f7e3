"""The SMART client's errors, each with a machine-readable code and a message safe to show.

    SmartClientError                 base: `error` code, user-safe `message`, `status`, `retryable`
    ├── LaunchError                  400: unknown or malformed issuer, failed discovery, state
    │                                     mismatched / expired / replayed, malformed launch params
    ├── AuthError                    401 (403 for scope refusals): token endpoint refusals, bad
    │                                     token responses, id_token validation, refresh refused
    └── ConfigurationError           500, raised at start-up: bad issuers file, missing secret,
                                          unreadable key storage (names the bad setting)

Messages never carry tokens, codes, secrets or verifiers; the Flask error handler may show them.
`retryable` says whether trying again later may help (network failures, 5xx), as in cumulus-etl;
`retry_after_s` is the wait the EHR asked for (a 429's Retry-After), when it gave one.
"""

from __future__ import annotations

import re

__all__ = [
    "AuthError",
    "ConfigurationError",
    "LaunchError",
    "SmartClientError",
    "error_code",
    "quoted_text",
]

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
QUOTE_LIMIT = 200


def error_code(value: object, default: str) -> str:
    """`value` when it looks like an OAuth error code (`invalid_grant`), else `default`.

    Codes from the EHR or from callback URLs are echoed only in this safe form.
    """
    return value if isinstance(value, str) and _CODE.match(value) else default


def quoted_text(value: object, limit: int = QUOTE_LIMIT) -> str | None:
    """Free text from the EHR or a launch URL (an `error_description`, an issuer) fit to quote.

    Control characters become spaces and the text is cut to `limit` characters; None when
    nothing printable is left. Pages escape it (Jinja autoescaping); logs quote it as JSON.
    """
    if not isinstance(value, str):
        return None
    text = " ".join(_UNPRINTABLE.sub(" ", value).split())
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


class SmartClientError(Exception):
    """Base of the SMART client errors: `error` is a stable code, `message` is safe to show."""

    status: int = 500

    def __init__(
        self,
        error: str,
        message: str,
        *,
        retryable: bool = False,
        status: int | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return f"{self.message} ({self.error})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(error={self.error!r}, message={self.message!r})"


class LaunchError(SmartClientError):
    """The launch request itself is wrong: issuer, state or launch parameters (HTTP 400)."""

    status = 400


class AuthError(SmartClientError):
    """The EHR refused authorization, or its tokens did not validate (HTTP 401, or 403)."""

    status = 401


class ConfigurationError(SmartClientError):
    """A setting needed at start-up is missing or wrong; the message names it."""

    status = 500
